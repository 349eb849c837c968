//! The webhook gateway: each message is POSTed as JSON `{"id", "channel", "address",
//! "body"}` to the URL of `CARNET_NOTIFY_WEBHOOK`; any 2xx answer means delivered. A
//! minimal HTTP/1.1 client over a std `TcpStream`: plain `http://` URLs only (put a TLS
//! relay on the same host for an `https://` gateway). May use `storage`, `config` and
//! `error`; never HTTP serving, consent or interactions.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use serde_json::json;

use super::{DeliveryError, Gateway};
use crate::storage::outbox::OutboxRow;

/// How long connecting, sending and reading the answer may each take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Most bytes of an answer read.
const MAX_ANSWER_BYTES: u64 = 64 * 1024;

/// A webhook at `http://host[:port]/path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    host: String,
    port: u16,
    path: String,
}

impl Webhook {
    /// The webhook of `url`; only `http://` URLs.
    pub fn parse(url: &str) -> Result<Webhook, String> {
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            format!("the webhook `{url}` is not an http:// url (https needs a local relay)")
        })?;
        let (authority, path) = match rest.find('/') {
            Some(slash) => (&rest[..slash], &rest[slash..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || host.starts_with('[') => {
                let port = port
                    .parse()
                    .map_err(|_| format!("the webhook `{url}` has a bad port"))?;
                (host, port)
            }
            _ => (authority, 80),
        };
        let host_ok =
            !host.is_empty() && !host.contains('@') && host.bytes().all(|b| b.is_ascii_graphic());
        if !host_ok || path.bytes().any(|b| !b.is_ascii_graphic()) {
            return Err(format!("the webhook `{url}` is not a usable url"));
        }
        Ok(Webhook {
            host: host.to_owned(),
            port,
            path: path.to_owned(),
        })
    }

    fn post(&self, body: &[u8]) -> Result<u16, DeliveryError> {
        let io = |e: std::io::Error| DeliveryError(format!("webhook {}: {e}", self.host));
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        let address = (host, self.port)
            .to_socket_addrs()
            .map_err(io)?
            .next()
            .ok_or_else(|| DeliveryError(format!("webhook {}: no address", self.host)))?;
        let mut stream = TcpStream::connect_timeout(&address, TIMEOUT).map_err(io)?;
        stream.set_read_timeout(Some(TIMEOUT)).map_err(io)?;
        stream.set_write_timeout(Some(TIMEOUT)).map_err(io)?;
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: carnet\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.path,
            self.host,
            self.port,
            body.len()
        );
        stream.write_all(head.as_bytes()).map_err(io)?;
        stream.write_all(body).map_err(io)?;
        stream.flush().map_err(io)?;
        let mut answer = Vec::new();
        stream
            .take(MAX_ANSWER_BYTES)
            .read_to_end(&mut answer)
            .map_err(io)?;
        status_of(&answer)
            .ok_or_else(|| DeliveryError(format!("webhook {}: no HTTP status", self.host)))
    }
}

impl Gateway for Webhook {
    fn deliver(&self, message: &OutboxRow) -> Result<(), DeliveryError> {
        let body = json!({
            "id": message.id,
            "channel": message.channel,
            "address": message.address,
            "body": message.body,
        })
        .to_string();
        match self.post(body.as_bytes())? {
            200..=299 => Ok(()),
            status => Err(DeliveryError(format!(
                "webhook {} answered {status}",
                self.host
            ))),
        }
    }
}

/// The status code of an HTTP/1.x answer.
fn status_of(answer: &[u8]) -> Option<u16> {
    let line = answer.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split(' ');
    parts.next().filter(|v| v.starts_with("HTTP/1."))?;
    parts.next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_parsed() {
        let hook = Webhook::parse("http://gw.example:8081/send?x=1").unwrap();
        assert_eq!(
            hook,
            Webhook {
                host: "gw.example".into(),
                port: 8081,
                path: "/send?x=1".into()
            }
        );
        assert_eq!(Webhook::parse("http://gw").unwrap().port, 80);
        assert_eq!(Webhook::parse("http://gw").unwrap().path, "/");
        let v6 = Webhook::parse("http://[::1]:9000/x").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("[::1]", 9000));
        for bad in [
            "https://gw/x",
            "ftp://gw",
            "http://",
            "http://gw:port/",
            "http://user@gw/",
            "http://gw/a b",
        ] {
            assert!(Webhook::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn statuses_are_read() {
        assert_eq!(status_of(b"HTTP/1.1 204 No Content\r\n\r\n"), Some(204));
        assert_eq!(status_of(b"HTTP/1.0 500 Oops\r\n"), Some(500));
        assert_eq!(status_of(b"garbage"), None);
        assert_eq!(status_of(b""), None);
    }
}
