//! The JSON Schema of a spec file (docs/tandem.schema.json, for editors):
//! the top-level layout the loader accepts, with each resource kind's
//! properties from its schema.

use serde_json::Value;
use tandem_schema::KindSchema;

/// The spec's schema, a resource being one of `kinds` (by their `type`).
pub fn spec_schema<'a>(kinds: impl IntoIterator<Item = &'a KindSchema>) -> Value {
    let kinds: serde_json::Map<String, Value> = kinds.into_iter().map(|k| (k.type_name.to_string(), k.json_schema())).collect();
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "tandem spec",
        "type": "object",
        "additionalProperties": false,
        "required": ["version"],
        "properties": {
            "version": { "const": 1 },
            "name": { "type": "string" },
            "variables": { "type": "object", "additionalProperties": {
                "anyOf": [
                    { "type": "object", "additionalProperties": false, "properties": {
                        "type": { "enum": ["string", "number", "bool", "list", "map"] },
                        "default": {}, "description": { "type": "string" }, "sensitive": { "type": "boolean" } } },
                    { "type": ["string", "number", "boolean", "array"] }
                ] } },
            "resources": { "type": "object", "additionalProperties": {
                "oneOf": kinds.values().cloned().collect::<Vec<_>>() } },
            "outputs": { "type": "object" },
            "backend": { "type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": false, "properties": {
                "local": { "type": "object", "additionalProperties": false, "properties": {
                    "path": { "type": "string" }, "kms_key_id": { "type": "string" }, "kms_region": { "type": "string" } } },
                "s3": { "type": "object", "additionalProperties": false, "properties": {
                    "bucket": { "type": "string" }, "key": { "type": "string" }, "region": { "type": "string" },
                    "kms_key_id": { "type": "string" }, "lock_key": { "type": "string" }, "endpoint": { "type": "string" },
                    "use_path_style": { "type": "boolean" } } } } },
            "moved": {
                "anyOf": [{ "$ref": "#/$defs/moved" }, { "type": "array", "items": { "$ref": "#/$defs/moved" } }] }
        },
        "$defs": {
            "moved": { "type": "object", "additionalProperties": false, "required": ["from", "to"],
                "properties": { "from": { "type": "string" }, "to": { "type": "string" } } }
        }
    })
}
