"""The Helix files of editors/helix parse as TOML, use only the keys Helix
documents (book/src/languages.md and keymap.md of Helix 25.07), add agentls
beside each language's servers, and are what docs/editors.md shows.

Run: python3 -m unittest discover -s tests/helix -v
"""

import json
import pathlib
import re
import tomllib
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]
LANGUAGES = ROOT / "editors" / "helix" / "languages.toml"
KEYS = ROOT / "editors" / "helix" / "config.toml"
DOCS = ROOT / "docs" / "editors.md"

# languages.toml, as documented in Helix's book (languages.md).
TOP_LEVEL = {"use-grammars", "language", "grammar", "language-server"}
LANGUAGE_KEYS = {
    "name", "language-id", "scope", "injection-regex", "file-types", "shebangs",
    "roots", "auto-format", "diagnostic-severity", "comment-tokens", "comment-token",
    "block-comment-tokens", "indent", "language-servers", "grammar", "formatter",
    "soft-wrap", "text-width", "rulers", "path-completion", "word-completion",
    "workspace-lsp-roots", "persistent-diagnostic-sources", "auto-pairs", "debugger",
}
SERVER_KEYS = {"command", "args", "config", "timeout", "environment", "required-root-patterns"}
SERVER_REF_KEYS = {"name", "only-features", "except-features"}

# config.toml key bindings: modes, and the commands the bindings use.
MODES = {"normal", "select", "insert"}
STATIC_COMMANDS = {"code_action"}
TYPABLE_COMMANDS = {"lsp-workspace-command"}


def docs_block(marker: str) -> str:
    text = DOCS.read_text()
    at = text.index(marker)
    match = re.search(r"```toml\n(.*?)```", text[at:], re.S)
    assert match, f"no toml block after {marker!r}"
    return match.group(1)


def json_values(text: str) -> list:
    """Parses a stream of JSON values, as Helix reads command arguments."""
    decoder, values, at = json.JSONDecoder(), [], 0
    while at < len(text):
        if text[at].isspace():
            at += 1
            continue
        value, at = decoder.raw_decode(text, at)
        values.append(value)
    return values


class LanguagesToml(unittest.TestCase):
    def setUp(self):
        with LANGUAGES.open("rb") as f:
            self.config = tomllib.load(f)

    def test_uses_only_documented_top_level_keys(self):
        self.assertLessEqual(set(self.config), TOP_LEVEL)

    def test_agentls_server_uses_only_documented_keys(self):
        server = self.config["language-server"]["agentls"]
        self.assertLessEqual(set(server), SERVER_KEYS)
        self.assertEqual(server["command"], "agentls")
        self.assertEqual(server["args"], ["serve"])
        self.assertIsInstance(server.get("timeout", 20), int)

    def test_languages_use_only_documented_keys(self):
        for language in self.config["language"]:
            with self.subTest(language=language.get("name")):
                self.assertLessEqual(set(language), LANGUAGE_KEYS)
                self.assertIsInstance(language["name"], str)

    def test_every_language_keeps_a_server_and_adds_agentls(self):
        languages = self.config["language"]
        self.assertGreaterEqual(len(languages), 5)
        for language in languages:
            with self.subTest(language=language["name"]):
                servers = language["language-servers"]
                names = []
                for entry in servers:
                    if isinstance(entry, dict):
                        self.assertLessEqual(set(entry), SERVER_REF_KEYS)
                        names.append(entry["name"])
                    else:
                        self.assertIsInstance(entry, str)
                        names.append(entry)
                self.assertEqual(names[-1], "agentls", "agentls comes last: the usual server answers first")
                self.assertEqual(names.count("agentls"), 1)
                self.assertGreaterEqual(len(names), 2, "the language's usual server is kept")

    def test_docs_show_the_file(self):
        self.assertEqual(docs_block("tests/helix checks this block against editors/helix/languages.toml"), LANGUAGES.read_text())


class KeysToml(unittest.TestCase):
    def setUp(self):
        with KEYS.open("rb") as f:
            self.config = tomllib.load(f)

    def bindings(self, table, path=()):
        for key, value in table.items():
            if isinstance(value, dict):
                yield from self.bindings(value, path + (key,))
            else:
                yield path + (key,), value

    def test_only_keys_tables_in_documented_modes(self):
        self.assertEqual(set(self.config), {"keys"})
        self.assertLessEqual(set(self.config["keys"]), MODES)

    def test_bindings_use_known_commands_with_json_arguments(self):
        bindings = list(self.bindings(self.config["keys"]))
        self.assertTrue(bindings)
        for path, command in bindings:
            with self.subTest(binding=".".join(path)):
                self.assertIsInstance(command, str)
                if command.startswith(":"):
                    name, _, rest = command[1:].partition(" ")
                    self.assertIn(name, TYPABLE_COMMANDS)
                    if rest:
                        workspace_command, _, arguments = rest.partition(" ")
                        self.assertRegex(workspace_command, r"^agent\.[a-z]+$")
                        for value in json_values(arguments):
                            self.assertIsInstance(value, dict, "agent.* commands take one object")
                else:
                    self.assertIn(command, STATIC_COMMANDS)

    def test_bindings_live_under_space_capital_a(self):
        for path, _ in self.bindings(self.config["keys"]):
            self.assertEqual(path[1:3], ("space", "A"))

    def test_docs_show_the_file(self):
        self.assertEqual(docs_block("tests/helix checks this block against editors/helix/config.toml"), KEYS.read_text())


if __name__ == "__main__":
    unittest.main()
