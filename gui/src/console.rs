//! The console's text rules: a command line becomes a JSON-RPC request,
//! the response becomes text to show, a method name is completed from the
//! node's list, and a wallet name becomes its `/wallet/<name>` uri.

use serde_json::Value;

/// `text` as a JSON string literal.
fn quote(text: &str) -> String {
    Value::from(text).to_string()
}

/// `text` as one JSON value (surrounding whitespace allowed), `None` if it
/// is not JSON. Numbers keep their text and objects their key order (the
/// workspace's serde_json has `arbitrary_precision` and `preserve_order`).
fn parse(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok()
}

/// A command line split into the method and its parameters as JSON texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParsedLine {
    pub(crate) method: String,
    pub(crate) params: Vec<String>,
}

/// Splits `line` like `bitcoin-cli` arguments: words separated by spaces;
/// `"..."` is a JSON string (escapes allowed), `'...'` a string taken
/// literally, and `[...]` / `{...}` stay one word however they are spaced.
/// Each word then becomes a parameter: valid JSON other than a bare word
/// (numbers, `true`, `false`, `null`, arrays, objects, quoted strings) is
/// sent as is; anything else, and a 64-digit hash, is sent as a string.
pub(crate) fn parse_line(line: &str) -> Result<Option<ParsedLine>, String> {
    let words = split_words(line)?;
    let mut words = words.into_iter();
    let Some(method) = words.next() else { return Ok(None) };
    let method = match method {
        Word::Quoted(text) | Word::Bare(text) => text,
    };
    if method.is_empty() || !method.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("not a method name: {method:?}"));
    }
    let params = words
        .map(|word| match word {
            Word::Quoted(text) => quote(&text),
            Word::Bare(text) => param_json(&text),
        })
        .collect();
    Ok(Some(ParsedLine { method, params }))
}

fn param_json(word: &str) -> String {
    let is_hash = word.len() == 64 && word.bytes().all(|b| b.is_ascii_hexdigit());
    match parse(word) {
        Some(Value::String(_)) | None => quote(word),
        Some(_) if is_hash => quote(word),
        Some(_) => word.to_owned(),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Word {
    /// A `'...'` or `"..."` word: always a string.
    Quoted(String),
    /// Anything else, brackets included.
    Bare(String),
}

fn split_words(line: &str) -> Result<Vec<Word>, String> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if c == '\'' {
            chars.next();
            let mut text = String::new();
            loop {
                match chars.next() {
                    Some('\'') => break,
                    Some(c) => text.push(c),
                    None => return Err("unterminated ' quote".into()),
                }
            }
            words.push(Word::Quoted(text));
        } else if c == '"' {
            let mut literal = String::new();
            literal.push(c);
            chars.next();
            loop {
                match chars.next() {
                    Some('\\') => {
                        literal.push('\\');
                        literal.push(chars.next().ok_or("unterminated \" quote")?);
                    }
                    Some('"') => {
                        literal.push('"');
                        break;
                    }
                    Some(c) => literal.push(c),
                    None => return Err("unterminated \" quote".into()),
                }
            }
            match parse(&literal) {
                Some(Value::String(text)) => words.push(Word::Quoted(text)),
                _ => return Err(format!("bad string {literal}")),
            }
        } else {
            let mut text = String::new();
            let mut depth = 0u32;
            let mut in_string = false;
            while let Some(&c) = chars.peek() {
                if depth == 0 && !in_string && c.is_whitespace() {
                    break;
                }
                chars.next();
                text.push(c);
                match c {
                    '\\' if in_string => {
                        if let Some(next) = chars.next() {
                            text.push(next);
                        }
                    }
                    '"' if depth > 0 => in_string = !in_string,
                    '[' | '{' if !in_string => depth += 1,
                    ']' | '}' if !in_string => depth = depth.saturating_sub(1),
                    _ => {}
                }
            }
            if depth > 0 || in_string {
                return Err(format!("unbalanced brackets in {text}"));
            }
            words.push(Word::Bare(text));
        }
    }
    Ok(words)
}

/// The JSON-RPC 1.0 request text for `parsed` with request `id`.
pub(crate) fn request_text(parsed: &ParsedLine, id: u64) -> String {
    format!(
        "{{\"jsonrpc\":\"1.0\",\"id\":{id},\"method\":{},\"params\":[{}]}}",
        quote(&parsed.method),
        parsed.params.join(",")
    )
}

/// What a JSON-RPC response says: the result as text (a string result
/// without its quotes, like `bitcoin-cli`; anything else pretty JSON), or
/// the error as `message (code N)`.
pub(crate) fn response_text(response: &str) -> Result<String, String> {
    let Some(value) = parse(response) else {
        return Err(format!("the node sent a reply that is not JSON: {response}"));
    };
    match value.get("error") {
        Some(Value::Null) | None => {}
        Some(error) => {
            let message = error.get("message").and_then(Value::as_str).unwrap_or("unknown error");
            return Err(match error.get("code") {
                Some(Value::Number(code)) => format!("{message} (code {code})"),
                _ => message.to_owned(),
            });
        }
    }
    Ok(match value.get("result") {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Null) | None => String::new(),
        // Two spaces per level, as `bitcoin-cli` prints results.
        Some(other) => format!("{other:#}"),
    })
}

/// The HTTP path that selects `wallet`: `/wallet/<name>` with the name
/// percent-encoded (the node URL-decodes it), or `/` without a wallet.
pub(crate) fn wallet_uri(wallet: Option<&str>) -> String {
    let Some(name) = wallet else { return "/".into() };
    let mut uri = String::from("/wallet/");
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

/// Completes the method name that `input` starts with from `commands`.
/// Returns the new input (extended to the longest common prefix, plus a
/// space when only one command fits) and the candidates when several fit.
/// Only the first word is completed; other input is returned unchanged.
pub(crate) fn complete(input: &str, commands: &[String]) -> (String, Vec<String>) {
    if input.is_empty() || input.contains(char::is_whitespace) {
        return (input.to_owned(), Vec::new());
    }
    let matches: Vec<&String> = commands.iter().filter(|c| c.starts_with(input)).collect();
    match matches.as_slice() {
        [] => (input.to_owned(), Vec::new()),
        [only] => (format!("{only} "), Vec::new()),
        [first, rest @ ..] => {
            let mut prefix = first.as_str();
            for other in rest {
                let common = prefix.chars().zip(other.chars()).take_while(|(a, b)| a == b).count();
                let end = prefix.char_indices().nth(common).map_or(prefix.len(), |(i, _)| i);
                prefix = &prefix[..end];
            }
            (prefix.to_owned(), matches.iter().map(|s| (*s).clone()).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(line: &str, method: &str, params: &[&str]) {
        let parsed = parse_line(line).expect("parses").expect("not empty");
        assert_eq!(parsed.method, method, "{line}");
        assert_eq!(parsed.params, params, "{line}");
    }

    #[test]
    fn command_lines_become_parameters() {
        check("getblockcount", "getblockcount", &[]);
        check("  getblockhash   0 ", "getblockhash", &["0"]);
        check("getnewaddress label", "getnewaddress", &["\"label\""]);
        check("getnewaddress \"my label\" bech32", "getnewaddress", &["\"my label\"", "\"bech32\""]);
        check("getnewaddress 'a \"b'", "getnewaddress", &["\"a \\\"b\""]);
        check(
            "sendmany \"\" {\"bcrt1q\": 1.5, \"x\": 2}",
            "sendmany",
            &["\"\"", "{\"bcrt1q\": 1.5, \"x\": 2}"],
        );
        check("x [1, \"a b\", [2]] true null -1.5e3", "x", &["[1, \"a b\", [2]]", "true", "null", "-1.5e3"]);
        let hash = "0".repeat(64);
        check(&format!("getblock {hash} 2"), "getblock", &[&format!("\"{hash}\""), "2"]);
        check("label 123", "label", &["123"]);
        check("label \"123\"", "label", &["\"123\""]);
        assert_eq!(parse_line("   "), Ok(None));
        assert!(parse_line("x \"open").is_err());
        assert!(parse_line("x [1, 2").is_err());
        assert!(parse_line("bad-method").is_err());
        let parsed = parse_line("getblockhash 0").unwrap().unwrap();
        assert_eq!(
            request_text(&parsed, 7),
            r#"{"jsonrpc":"1.0","id":7,"method":"getblockhash","params":[0]}"#
        );
    }

    #[test]
    fn responses_become_text() {
        assert_eq!(response_text(r#"{"result":"abc","error":null,"id":1}"#), Ok("abc".into()));
        assert_eq!(response_text(r#"{"result":101,"error":null,"id":1}"#), Ok("101".into()));
        assert_eq!(response_text(r#"{"result":{"a":1},"error":null,"id":1}"#), Ok("{\n  \"a\": 1\n}".into()));
        assert_eq!(response_text(r#"{"result":null,"error":null,"id":1}"#), Ok(String::new()));
        assert_eq!(
            response_text(r#"{"result":null,"error":{"code":-32601,"message":"Method not found"},"id":1}"#),
            Err("Method not found (code -32601)".into())
        );
        assert!(response_text("garbage").is_err());
    }

    #[test]
    fn results_keep_number_text_and_key_order() {
        let response =
            r#" {"result":{"z":50.00000000,"a":[1,true,null,"x\"y"],"e":[],"o":{}},"error":null,"id":1} "#;
        assert_eq!(
            response_text(response),
            Ok("{\n  \"z\": 50.00000000,\n  \"a\": [\n    1,\n    true,\n    null,\n    \"x\\\"y\"\n  ],\n  \"e\": [],\n  \"o\": {}\n}".into())
        );
        assert_eq!(response_text(r#"{"result":[],"error":null,"id":1}"#), Ok("[]".into()));
        assert_eq!(response_text(r#"{"result":1e-8,"error":null,"id":1}"#), Ok("1e-8".into()));
    }

    #[test]
    fn what_is_not_json_is_refused_or_sent_as_a_string() {
        for bad in ["", "abc", "01", "1.", "[1,]", "{\"a\"}", "\"open", "[1] 2", "-", "1e", "tru"] {
            assert!(response_text(bad).is_err(), "{bad:?}");
        }
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(response_text(&deep).is_err());
        for word in ["01", "1.", "[1,]", "-", "1e", "tru", "{a:1}", deep.as_str()] {
            check(&format!("x {word}"), "x", &[&quote(word)]);
        }
    }

    #[test]
    fn strings_round_trip_through_quote() {
        for text in ["plain", "quote \" and \\ back", "line\nbreak\ttab\u{1}\u{8}", "ünïcødé ₿"] {
            assert_eq!(parse(&quote(text)), Some(Value::String(text.to_owned())), "{text:?}");
            check(&format!("x {}", quote(text)), "x", &[&quote(text)]);
        }
        assert_eq!(quote("a\"b\\\n\u{1}"), r#""a\"b\\\n\u0001""#);
        check(r#"x "\ud83d\ude00" "\u00fc""#, "x", &["\"😀\"", "\"ü\""]);
        assert!(parse_line(r#"x "\ud800""#).is_err(), "a lone surrogate is not a string");
    }

    #[test]
    fn wallet_uris_are_encoded() {
        assert_eq!(wallet_uri(None), "/");
        assert_eq!(wallet_uri(Some("")), "/wallet/");
        assert_eq!(wallet_uri(Some("w1")), "/wallet/w1");
        assert_eq!(wallet_uri(Some("my wallet/ü")), "/wallet/my%20wallet%2F%C3%BC");
    }

    #[test]
    fn completes_method_names() {
        let commands: Vec<String> =
            ["getblock", "getblockcount", "getblockhash", "stop"].iter().map(|s| s.to_string()).collect();
        assert_eq!(complete("st", &commands), ("stop ".into(), vec![]));
        let (input, candidates) = complete("getb", &commands);
        assert_eq!(input, "getblock");
        assert_eq!(candidates.len(), 3);
        assert_eq!(complete("zz", &commands), ("zz".into(), vec![]));
        assert_eq!(complete("getblock 1", &commands), ("getblock 1".into(), vec![]));
    }
}
