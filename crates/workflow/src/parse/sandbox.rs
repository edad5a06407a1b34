//! The top-level `sandbox` table: `{ network, write, required }`.

use toml::de::DeValue;
use toml::Spanned;

use super::value::{a_type, Reporter};
use crate::diagnostic::DiagnosticCode;
use crate::model::{Sandbox, SandboxNetwork};

const SANDBOX_KEYS: &[&str] = &["network", "write", "required"];
const EXAMPLE: &str = "`sandbox = { network = false, write = [\"~/.cache/cargo\"] }`";

pub(super) fn parse(r: &mut Reporter<'_>, value: &Spanned<DeValue<'_>>) -> Option<Sandbox> {
    let t = r.table("sandbox", value, EXAMPLE)?;
    r.unknown_keys(t, SANDBOX_KEYS, "`sandbox`");
    let network = t.get("network").and_then(|v| network(r, v));
    let write = t
        .get("write")
        .and_then(|v| r.strings("write", v))
        .unwrap_or_default()
        .into_iter()
        .filter_map(|path| {
            let span = path.span();
            let path = path.into_inner();
            if path.starts_with('/') || path == "~" || path.starts_with("~/") {
                Some(path)
            } else {
                r.error(
                    DiagnosticCode::InvalidValue,
                    span,
                    format!(
                        "`write` path `{path}` must be absolute or start with `~/`; \
                         the workspace is always writable"
                    ),
                );
                None
            }
        })
        .collect();
    let required = t
        .get("required")
        .and_then(|v| r.boolean("required", v))
        .unwrap_or(false);
    Some(Sandbox {
        network,
        write,
        required,
    })
}

/// `true`, `false`, or an array of TCP ports (1 to 65535).
fn network(r: &mut Reporter<'_>, value: &Spanned<DeValue<'_>>) -> Option<SandboxNetwork> {
    match value.get_ref() {
        DeValue::Boolean(true) => Some(SandboxNetwork::Allowed),
        DeValue::Boolean(false) => Some(SandboxNetwork::Denied),
        DeValue::Array(items) => {
            let mut ports = Vec::new();
            for item in items.iter() {
                let port = r.integer("network[...]", item)?;
                match u16::try_from(port) {
                    Ok(port) if port > 0 => ports.push(port),
                    _ => {
                        r.error(
                            DiagnosticCode::OutOfRange,
                            item.span(),
                            format!("port {port} is not between 1 and 65535"),
                        );
                        return None;
                    }
                }
            }
            Some(SandboxNetwork::Ports(ports))
        }
        other => {
            r.error(
                DiagnosticCode::WrongType,
                value.span(),
                format!(
                    "`network` must be `true`, `false` or a list of TCP ports such as [8080], \
                     found {}",
                    a_type(other)
                ),
            );
            None
        }
    }
}
