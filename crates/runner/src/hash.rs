//! Run identity: a blake3 hash over the canonical form of a fully resolved config and the
//! fingerprint of the data it trains on.
//!
//! Canonical form: the config is first parsed into its typed structs (which fills in every
//! default and turns `1` into `1.0` for float fields), serialized to JSON with object keys
//! sorted, and numbers written in one spelling (floats by Rust's shortest round-trip `{:?}`,
//! so `1` and `1.0` and `1e0` agree). Any semantic change, however small, changes the hash.

use serde::Serialize;
use serde_json::Value;

/// Version tag mixed into every hash; bump it when the meaning of a config changes.
const HASH_DOMAIN: &str = "stepsharp run v1";

/// Length of the hexadecimal run id used for folder names.
pub const RUN_ID_LEN: usize = 16;

/// The canonical text of any serializable value (sorted keys, one number spelling).
pub fn canonical_json(value: &impl Serialize) -> String {
    let value = serde_json::to_value(value).expect("configs serialize to JSON");
    let mut out = String::new();
    write_canonical(&value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => out.push_str(&u.to_string()),
            (None, Some(i), _) => out.push_str(&i.to_string()),
            (_, _, Some(f)) if f.fract() == 0.0 && f.abs() < 1e15 => {
                out.push_str(&format!("{}", f as i64))
            }
            (_, _, Some(f)) => out.push_str(&format!("{f:?}")),
            _ => out.push_str(&n.to_string()),
        },
        Value::String(s) => out.push_str(&serde_json::to_string(s).expect("strings serialize")),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(key).expect("strings serialize"));
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
    }
}

/// The run hash: blake3 over the domain tag, the canonical config and the data fingerprint,
/// as lowercase hex (64 characters). Folder names use its first [`RUN_ID_LEN`] characters.
pub fn run_hash(config: &impl Serialize, data_fingerprint: &str) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(HASH_DOMAIN.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical_json(config).as_bytes());
    hasher.update(b"\n");
    hasher.update(data_fingerprint.as_bytes());
    hasher.finalize().to_hex().to_string()
}
