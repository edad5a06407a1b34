// VS Code's client capabilities, computed by vscode-languageclient itself
// (the library VS Code extensions use, at the extension's version), so the
// test sends exactly what the extension's client sends in `initialize`.
//
// vscode-languageclient needs the `vscode` module of the editor host; here a
// stub stands in for it. Features only read a few host values while filling
// capabilities; everything the stub returns is inert.
'use strict';

const Module = require('node:module');

function inert(name) {
  const cache = new Map();
  const target = function () {};
  return new Proxy(target, {
    get(_, prop) {
      if (prop === 'then' || prop === Symbol.iterator) {
        return undefined;
      }
      if (prop === Symbol.toPrimitive || prop === 'toString') {
        return () => name;
      }
      if (!cache.has(prop)) {
        cache.set(prop, inert(`${name}.${String(prop)}`));
      }
      return cache.get(prop);
    },
    apply: () => inert(`${name}()`),
    construct: () => inert(`new ${name}`),
  });
}

/** The VS Code version the test claims to be (vscode-languageclient checks it). */
const VSCODE_VERSION = '1.95.0';

function loadWithStubbedHost() {
  const stub = inert('vscode');
  const host = new Proxy(stub, {
    get: (target, prop) => (prop === 'version' ? VSCODE_VERSION : target[prop]),
  });
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    return request === 'vscode' ? 'vscode' : resolve.call(this, request, ...rest);
  };
  require.cache.vscode = { id: 'vscode', filename: 'vscode', loaded: true, exports: host };
  try {
    return require('vscode-languageclient/node');
  } finally {
    Module._resolveFilename = resolve;
  }
}

/** The `capabilities` of VS Code's `initialize` request, as vscode-languageclient builds them. */
function vscodeClientCapabilities() {
  const { LanguageClient } = loadWithStubbedHost();
  const client = new LanguageClient(
    'agentls',
    'Agent Language Server',
    { command: 'agentls' },
    { documentSelector: [{ scheme: 'file' }] },
  );
  return client.computeClientCapabilities();
}

module.exports = { vscodeClientCapabilities, VSCODE_VERSION };
