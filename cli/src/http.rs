//! A minimal blocking HTTP/1.1 client for exactly one JSON-RPC exchange:
//! one `POST` with a `Content-Length` body and `Connection: close`, one
//! response read with `Content-Length`, `Transfer-Encoding: chunked` (which
//! the node's server uses for large bodies) or until the server closes.
//! No TLS, redirects, proxies or keep-alive: the node listens on loopback.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// The longest status line or header line accepted.
const MAX_LINE: u64 = 16 * 1024;
/// The most header lines accepted.
const MAX_HEADERS: usize = 100;

/// How long to wait for the server's reply (bitcoin-cli's `-rpcclienttimeout` default).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(900);

/// What went wrong in an exchange.
#[derive(Debug)]
pub enum HttpError {
    /// The TCP connection could not be made (refused, unreachable, ...).
    Connect(io::Error),
    /// The connection was made but the server closed or reset it without
    /// sending a byte of a reply (e.g. while it starts or stops).
    NoResponse(String),
    /// The exchange failed part-way, or the reply is not HTTP.
    Exchange(String),
}

/// An HTTP response: its status code and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code, e.g. 200.
    pub status: u16,
    /// The (de-chunked) body.
    pub body: Vec<u8>,
}

/// Sends `POST <path>` with `body` to `addr`, with the given `Authorization`
/// header value, and reads the whole response, waiting for it at most
/// [`DEFAULT_TIMEOUT`] between bytes.
pub fn post(addr: SocketAddr, path: &str, authorization: &str, body: &[u8]) -> Result<Response, HttpError> {
    post_with_timeout(addr, path, authorization, body, Some(DEFAULT_TIMEOUT))
}

/// [`post`] with its own read timeout (`-rpcclienttimeout`); `None` waits forever.
pub fn post_with_timeout(
    addr: SocketAddr,
    path: &str,
    authorization: &str,
    body: &[u8],
    timeout: Option<Duration>,
) -> Result<Response, HttpError> {
    let mut stream = TcpStream::connect(addr).map_err(HttpError::Connect)?;
    let exchange = |e: io::Error| HttpError::Exchange(e.to_string());
    stream.set_read_timeout(timeout).map_err(exchange)?;
    let no_response = |e: io::Error| HttpError::NoResponse(format!("no response from server ({e})"));
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: {authorization}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    stream.write_all(&request).map_err(no_response)?;
    stream.flush().map_err(no_response)?;
    read_response(BufReader::new(stream))
}

/// Reads one response from `reader`.
pub fn read_response<R: BufRead>(mut reader: R) -> Result<Response, HttpError> {
    // Nothing at all (closed or reset before the first byte): no response.
    let status_line = read_line(&mut reader).map_err(|e| match e {
        LineError::Eof => HttpError::NoResponse("no response from server".to_string()),
        LineError::Io(e) => HttpError::NoResponse(format!("no response from server ({e})")),
        e => e.into(),
    })?;
    let status = parse_status(&status_line)?;
    let mut content_length = None;
    let mut chunked = false;
    let mut headers = 0;
    loop {
        let line = read_line(&mut reader)?;
        if line.is_empty() {
            break;
        }
        headers += 1;
        if headers > MAX_HEADERS {
            return Err(HttpError::Exchange("too many response headers".to_string()));
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(HttpError::Exchange(format!("malformed response header '{line}'")));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            let length = value
                .parse::<u64>()
                .map_err(|_| HttpError::Exchange(format!("bad Content-Length '{value}'")))?;
            content_length = Some(length);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.split(',').any(|coding| coding.trim().eq_ignore_ascii_case("chunked"));
        }
    }
    let body = if chunked {
        read_chunked(&mut reader)?
    } else if let Some(length) = content_length {
        let mut body = Vec::new();
        (&mut reader).take(length).read_to_end(&mut body).map_err(io_error)?;
        if (body.len() as u64) < length {
            return Err(HttpError::Exchange("connection closed before the end of the response".to_string()));
        }
        body
    } else {
        let mut body = Vec::new();
        reader.read_to_end(&mut body).map_err(io_error)?;
        body
    };
    Ok(Response { status, body })
}

fn io_error(e: io::Error) -> HttpError {
    HttpError::Exchange(e.to_string())
}

/// Why [`read_line`] found no line.
enum LineError {
    /// End of stream before any byte of the line.
    Eof,
    /// A read failed.
    Io(io::Error),
    /// End of stream inside the line, or a line over [`MAX_LINE`].
    Truncated,
    /// Not UTF-8.
    NotUtf8,
}

impl From<LineError> for HttpError {
    fn from(e: LineError) -> HttpError {
        HttpError::Exchange(match e {
            LineError::Eof | LineError::Truncated => "truncated or oversized response header".to_string(),
            LineError::Io(e) => e.to_string(),
            LineError::NotUtf8 => "response header is not UTF-8".to_string(),
        })
    }
}

/// One CRLF- (or LF-) terminated line without its terminator.
fn read_line<R: BufRead>(reader: &mut R) -> Result<String, LineError> {
    let mut line = Vec::new();
    reader.by_ref().take(MAX_LINE).read_until(b'\n', &mut line).map_err(LineError::Io)?;
    if line.is_empty() {
        return Err(LineError::Eof);
    }
    if line.last() != Some(&b'\n') {
        return Err(LineError::Truncated);
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line).map_err(|_| LineError::NotUtf8)
}

/// `HTTP/1.1 200 OK` → 200.
fn parse_status(line: &str) -> Result<u16, HttpError> {
    let mut parts = line.split_whitespace();
    let version = parts.next().unwrap_or_default();
    let code = parts.next().and_then(|code| code.parse::<u16>().ok());
    match code {
        Some(code) if version.starts_with("HTTP/") => Ok(code),
        _ => Err(HttpError::Exchange(format!("not an HTTP response: '{line}'"))),
    }
}

/// A chunked body (RFC 9112 §7.1): hex size lines, data, a zero chunk, trailers.
fn read_chunked<R: BufRead>(reader: &mut R) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    loop {
        let line = read_line(reader)?;
        let size = line.split(';').next().unwrap_or_default().trim();
        let size = u64::from_str_radix(size, 16)
            .map_err(|_| HttpError::Exchange(format!("bad chunk size '{size}'")))?;
        if size == 0 {
            // Trailers, up to the empty line.
            while !read_line(reader)?.is_empty() {}
            return Ok(body);
        }
        let before = body.len();
        reader.by_ref().take(size).read_to_end(&mut body).map_err(io_error)?;
        if ((body.len() - before) as u64) < size {
            return Err(HttpError::Exchange("connection closed inside a chunk".to_string()));
        }
        if !read_line(reader)?.is_empty() {
            return Err(HttpError::Exchange("missing CRLF after a chunk".to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<Response, String> {
        read_response(raw.as_bytes()).map_err(|e| format!("{e:?}"))
    }

    #[test]
    fn content_length() {
        let r = parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA").expect("parses");
        assert_eq!((r.status, r.body.as_slice()), (200, &b"hello"[..]));
    }

    #[test]
    fn chunked() {
        let raw = "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n\
                   3\r\nabc\r\na;x=y\r\n0123456789\r\n0\r\nTrailer: 1\r\n\r\n";
        let r = parse(raw).expect("parses");
        assert_eq!((r.status, r.body.as_slice()), (500, &b"abc0123456789"[..]));
    }

    #[test]
    fn until_close() {
        let r = parse("HTTP/1.0 404 Not Found\n\n{}").expect("parses");
        assert_eq!((r.status, r.body.as_slice()), (404, &b"{}"[..]));
    }

    #[test]
    fn nothing_is_no_response() {
        assert!(matches!(read_response(&b""[..]), Err(HttpError::NoResponse(_))));
        assert!(matches!(read_response(&b"HTTP/1.1"[..]), Err(HttpError::Exchange(_))));
    }

    #[test]
    fn malformed() {
        assert!(parse("").is_err());
        assert!(parse("SSH-2.0\r\n\r\n").is_err());
        assert!(parse("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort").is_err());
        assert!(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err());
        assert!(parse("HTTP/1.1 200 OK\r\nbad header\r\n\r\n").is_err());
    }
}
