//! The flat XML documents of WeChat Pay API v2.
//!
//! WeChat Pay v2 bodies are one root element (`<xml>`, or `<root>` for the
//! decrypted `req_info` of a refund notify) holding one child element per
//! parameter, each with a text or CDATA value:
//!
//! ```xml
//! <xml><appid><![CDATA[wx2421b1c4370ec43b]]></appid><total_fee>1</total_fee></xml>
//! ```
//!
//! [`decode`] is deliberately strict and safe:
//! - DOCTYPE / DTD / ENTITY declarations are rejected (no XXE, no "billion
//!   laughs": entities are never expanded; only the five predefined entities
//!   and numeric character references are decoded);
//! - elements nested below a field, duplicate fields, text outside a field and
//!   a second root are errors;
//! - input larger than [`MAX_XML_BYTES`] is refused before parsing;
//! - [`decode_bytes`] refuses input that is not UTF-8, and an XML declaration
//!   naming another encoding is refused.
//!
//! Values are kept exactly as written (no trimming): signatures cover them
//! byte for byte. Attributes, comments and the XML declaration are ignored.
//!
//! ```
//! use edgepay::wechat::xml;
//! let p = xml::decode("<xml><a><![CDATA[x]]></a><b>1 &amp; 2</b></xml>").unwrap();
//! assert_eq!(p["a"], "x");
//! assert_eq!(p["b"], "1 & 2");
//! assert_eq!(xml::encode(&p), "<xml><a><![CDATA[x]]></a><b><![CDATA[1 & 2]]></b></xml>");
//! ```

use crate::error::{quoted, Error, Format, Result};
use crate::params::Params;
use quick_xml::events::Event;
use quick_xml::Reader;

/// The largest document [`decode`] accepts (1 MiB). WeChat Pay v2 bodies are a
/// few kilobytes; anything near this is an attack or a mistake.
pub const MAX_XML_BYTES: usize = 1 << 20;

fn err(reason: impl Into<String>) -> Error {
    Error::malformed(Format::Xml, reason)
}

/// Decodes raw bytes: refuses non-UTF-8 input, then [`decode`]s it.
///
/// ```
/// let e = edgepay::wechat::xml::decode_bytes(b"<xml><a>\xff</a></xml>").unwrap_err();
/// assert_eq!(e.code(), "malformed");
/// ```
pub fn decode_bytes(bytes: &[u8]) -> Result<Params> {
    if bytes.len() > MAX_XML_BYTES {
        return Err(too_large(bytes.len()));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Error::malformed(
            Format::Utf8,
            format!(
                "the XML body is not valid UTF-8 (at byte {})",
                e.valid_up_to()
            ),
        )
    })?;
    decode(text)
}

fn too_large(len: usize) -> Error {
    err(format!(
        "document is {len} bytes; the limit is {MAX_XML_BYTES} bytes"
    ))
}

/// Decodes a flat WeChat Pay XML document into its parameters.
///
/// The root element may have any name. Each child element becomes one
/// parameter; an empty element (`<a/>` or `<a></a>`) gives an empty value.
/// See the [module documentation](self) for what is rejected.
pub fn decode(text: &str) -> Result<Params> {
    if text.len() > MAX_XML_BYTES {
        return Err(too_large(text.len()));
    }
    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.expand_empty_elements = false;
    config.trim_text(false);

    let mut params = Params::new();
    // Parsing state: before the root, inside the root, inside a field, after the root.
    let mut seen_root = false;
    let mut root: Option<String> = None;
    let mut field: Option<(String, String)> = None;

    loop {
        let pos = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| err(format!("{e} (near byte {pos})")))?;
        match event {
            Event::Eof => break,
            Event::DocType(_) => {
                return Err(err(
                    "DOCTYPE/DTD/ENTITY declarations are not allowed (XXE and entity-expansion protection)",
                ))
            }
            Event::Decl(decl) => {
                if let Some(Ok(enc)) = decl.encoding() {
                    let enc = String::from_utf8_lossy(&enc).into_owned();
                    if !enc.eq_ignore_ascii_case("utf-8") && !enc.eq_ignore_ascii_case("utf8") {
                        return Err(err(format!(
                            "declared encoding {} is not supported: WeChat Pay XML is UTF-8",
                            quoted(&enc)
                        )));
                    }
                }
            }
            Event::PI(_) => return Err(err("processing instructions are not allowed")),
            Event::Comment(_) => {}
            Event::Start(start) => {
                let name = element_name(start.name().as_ref())?;
                if let Some((parent, _)) = &field {
                    return Err(err(format!(
                        "field <{parent}> contains a nested element <{name}>: only flat documents are supported"
                    )));
                }
                if root.is_some() {
                    if params.contains_key(&name) {
                        return Err(err(format!("duplicate field <{name}>")));
                    }
                    field = Some((name, String::new()));
                } else if seen_root {
                    return Err(err(format!(
                        "a second root element <{name}> after the document ended"
                    )));
                } else {
                    seen_root = true;
                    root = Some(name);
                }
            }
            Event::Empty(start) => {
                let name = element_name(start.name().as_ref())?;
                if let Some((parent, _)) = &field {
                    return Err(err(format!(
                        "field <{parent}> contains a nested element <{name}/>: only flat documents are supported"
                    )));
                }
                if root.is_some() {
                    if params.contains_key(&name) {
                        return Err(err(format!("duplicate field <{name}>")));
                    }
                    params.insert(name, String::new());
                } else if seen_root {
                    return Err(err(format!(
                        "a second root element <{name}/> after the document ended"
                    )));
                } else {
                    // `<xml/>`: an empty document.
                    seen_root = true;
                }
            }
            Event::End(_) => {
                // Names are checked by the reader (check_end_names).
                if let Some((name, value)) = field.take() {
                    params.insert(name, value);
                } else if root.take().is_none() {
                    return Err(err("unexpected closing tag"));
                }
            }
            Event::Text(t) => {
                let value = t
                    .unescape()
                    .map_err(|e| err(format!("bad character or entity reference: {e} (near byte {pos})")))?;
                match &mut field {
                    Some((_, v)) => v.push_str(&value),
                    None => {
                        if !value.chars().all(is_xml_space) {
                            let where_ = if root.is_some() { "between fields" } else { "outside the root element" };
                            return Err(err(format!("text {where_} (near byte {pos})")));
                        }
                    }
                }
            }
            Event::CData(c) => {
                let raw = c.into_inner();
                let value = std::str::from_utf8(&raw)
                    .map_err(|_| Error::malformed(Format::Utf8, "CDATA section is not UTF-8"))?;
                match &mut field {
                    Some((_, v)) => v.push_str(value),
                    None => return Err(err(format!("CDATA outside a field (near byte {pos})"))),
                }
            }
        }
    }
    if !seen_root {
        return Err(err("no root element (empty document)"));
    }
    if root.is_some() || field.is_some() {
        return Err(err("unexpected end of document: an element is not closed"));
    }
    Ok(params)
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn element_name(raw: &[u8]) -> Result<String> {
    let name = std::str::from_utf8(raw).map_err(|_| err("element name is not UTF-8"))?;
    let mut chars = name.chars();
    match chars.next() {
        None => return Err(err("empty element name")),
        // An XML name (letters, digits, `_ - . :`; not starting with a digit,
        // `-` or `.`). quick-xml takes everything up to whitespace, `/` or `>`
        // as the name, so control characters, quotes or `=` would otherwise
        // become parameter names (found by fuzzing, see fuzz/README.md).
        Some(first) if first.is_alphabetic() || first == '_' || first == ':' => {}
        Some(_) => {
            return Err(err(format!(
                "element name {} is not an XML name",
                quoted(name)
            )))
        }
    }
    if !chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')) {
        return Err(err(format!(
            "element name {} is not an XML name",
            quoted(name)
        )));
    }
    Ok(name.to_string())
}

/// Encodes parameters as `<xml><k><![CDATA[v]]></k>…</xml>`, keys in sorted order.
///
/// Every value goes in a CDATA section; a value containing `]]>` is split
/// across two sections so it survives. Keys must be XML names (WeChat Pay
/// parameter names always are), and values cannot carry the control
/// characters XML 1.0 forbids (U+0000–U+0008, U+000B, U+000C, U+000E–U+001F).
///
/// ```
/// let p = edgepay::params::params([("a", "x]]>y")]);
/// let xml = edgepay::wechat::xml::encode(&p);
/// assert_eq!(xml, "<xml><a><![CDATA[x]]]]><![CDATA[>y]]></a></xml>");
/// assert_eq!(edgepay::wechat::xml::decode(&xml).unwrap(), p);
/// ```
pub fn encode(params: &Params) -> String {
    let mut out = String::with_capacity(
        32 + params
            .iter()
            .map(|(k, v)| 2 * k.len() + v.len() + 17)
            .sum::<usize>(),
    );
    out.push_str("<xml>");
    for (k, v) in params {
        out.push('<');
        out.push_str(k);
        out.push_str("><![CDATA[");
        out.push_str(&v.replace("]]>", "]]]]><![CDATA[>"));
        out.push_str("]]></");
        out.push_str(k);
        out.push('>');
    }
    out.push_str("</xml>");
    out
}
