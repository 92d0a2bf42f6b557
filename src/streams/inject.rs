//! Builds derived records without re-serializing the API's JSON: new leading fields are spliced
//! in front of an object's own fields.

use serde_json::value::RawValue;

use crate::error::Error;

/// `{"k1":v1,...,<the object's own fields>}`. `fields` values are JSON text. A non-object
/// element is kept whole under `value`.
pub fn with_leading_fields(
    element: &RawValue,
    fields: &[(&str, &str)],
) -> Result<Box<RawValue>, Error> {
    let text = element.get().trim();
    let mut out = String::with_capacity(text.len() + 64);
    out.push('{');
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        out.push_str(k);
        out.push_str("\":");
        out.push_str(v);
    }
    if let Some(inner) = text.strip_prefix('{') {
        let inner = inner.trim_start();
        if inner != "}" {
            out.push(',');
        }
        out.push_str(inner);
    } else {
        out.push_str(",\"value\":");
        out.push_str(text);
        out.push('}');
    }
    RawValue::from_string(out)
        .map_err(|e| Error::Internal(format!("derived record is not JSON: {e}")))
}

/// A JSON string literal.
pub fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_owned()).unwrap()
    }

    #[test]
    fn splices_fields() {
        let r = with_leading_fields(
            &raw(r#"{"a": 1}"#),
            &[("chat_id", "\"c\""), ("position", "0")],
        )
        .unwrap();
        assert_eq!(r.get(), r#"{"chat_id":"c","position":0,"a": 1}"#);
        let r = with_leading_fields(&raw("{ }"), &[("x", "1")]).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(r.get()).unwrap(),
            serde_json::json!({"x":1})
        );
        let r = with_leading_fields(&raw(r#"["a", null, 3]"#), &[("x", "1")]).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(r.get()).unwrap(),
            serde_json::json!({"x":1,"value":["a",null,3]})
        );
        assert_eq!(json_string("a\"b"), r#""a\"b""#);
    }
}
