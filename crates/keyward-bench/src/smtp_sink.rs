//! A capture SMTP server on loopback for the outbox scenario: it answers
//! just enough SMTP for a client to deliver (greeting, EHLO/HELO, MAIL,
//! RCPT, DATA, RSET, NOOP, QUIT), and records for each message when it
//! arrived, its recipients and its `Message-ID` — never a body. It can hold
//! its greeting until [`SmtpSink::open`], so a sender's first connection
//! waits while mail piles up in its queue. One task per connection and no
//! per-message allocation beyond a line buffer keep it far cheaper than the
//! sender it measures.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Longest command or data line accepted (RFC 5321 allows 1000 octets; a
/// little slack for senders that fold late).
const MAX_LINE_BYTES: usize = 64 * 1024;

/// One delivered message.
#[derive(Debug, Clone)]
pub struct Received {
    /// When its final `.` was read.
    pub at: Instant,
    /// `RCPT TO` addresses, without angle brackets.
    pub recipients: Vec<String>,
    /// The `Message-ID` header's value, when it had one.
    pub message_id: Option<String>,
}

/// A running sink; stops listening when dropped.
pub struct SmtpSink {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    gate: watch::Sender<bool>,
    listener: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    /// Listens on a free loopback port. With `held`, connections are
    /// accepted but greeted only after [`SmtpSink::open`].
    pub async fn start(held: bool) -> anyhow::Result<SmtpSink> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the SMTP sink")?;
        let port = listener.local_addr()?.port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let (gate, _) = watch::channel(!held);
        let accepting = {
            let received = received.clone();
            let gate = gate.subscribe();
            tokio::spawn(accept_loop(listener, received, gate))
        };
        Ok(SmtpSink {
            port,
            received,
            gate,
            listener: accepting,
        })
    }

    /// Greets every waiting and future connection.
    pub fn open(&self) {
        self.gate.send_replace(true);
    }

    /// How many messages arrived so far.
    pub fn count(&self) -> usize {
        self.received.lock().map(|r| r.len()).unwrap_or(0)
    }

    /// Every message so far, in order of arrival.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Waits until `n` messages arrived, or `timeout` passed (then the count).
    pub async fn wait_for(&self, n: usize, timeout: std::time::Duration) -> usize {
        let deadline = Instant::now() + timeout;
        while self.count() < n && Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        self.count()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    received: Arc<Mutex<Vec<Received>>>,
    gate: watch::Receiver<bool>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let received = received.clone();
        let mut gate = gate.clone();
        tokio::spawn(async move {
            if gate.wait_for(|open| *open).await.is_err() {
                return;
            }
            // A client that breaks off mid-session is simply gone.
            let _ = serve(stream, &received).await;
        });
    }
}

/// What the session holds of the message under way.
#[derive(Default)]
struct Envelope {
    recipients: Vec<String>,
}

async fn serve(stream: TcpStream, received: &Mutex<Vec<Received>>) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut line = Vec::with_capacity(1024);
    let mut envelope = Envelope::default();
    write.write_all(b"220 bench-sink ESMTP ready\r\n").await?;
    loop {
        if !read_line(&mut reader, &mut line).await? {
            return Ok(());
        }
        let verb = verb_of(&line);
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-bench-sink greets you\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n",
            "HELO" => b"250 bench-sink\r\n",
            "MAIL" => {
                envelope = Envelope::default();
                b"250 OK\r\n"
            }
            "RCPT" => {
                envelope.recipients.push(address_of(&line));
                b"250 OK\r\n"
            }
            "DATA" => {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let message_id = read_data(&mut reader, &mut line).await?;
                let message = Received {
                    at: Instant::now(),
                    recipients: std::mem::take(&mut envelope.recipients),
                    message_id,
                };
                if let Ok(mut all) = received.lock() {
                    all.push(message);
                }
                b"250 OK queued\r\n"
            }
            "RSET" => {
                envelope = Envelope::default();
                b"250 OK\r\n"
            }
            "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 Bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 Command not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}

/// Reads one line (through `\n`) into `line`; false at end of stream.
async fn read_line<R: AsyncBufReadExt + Unpin>(
    reader: &mut R,
    line: &mut Vec<u8>,
) -> std::io::Result<bool> {
    line.clear();
    let n = reader.read_until(b'\n', line).await?;
    if line.len() > MAX_LINE_BYTES {
        return Err(std::io::Error::other("line too long"));
    }
    Ok(n > 0)
}

/// Reads the message up to `.` alone on a line; its `Message-ID`, if any.
async fn read_data<R: AsyncBufReadExt + Unpin>(
    reader: &mut R,
    line: &mut Vec<u8>,
) -> std::io::Result<Option<String>> {
    let mut in_headers = true;
    let mut message_id = None;
    loop {
        if !read_line(reader, line).await? {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let text = trim_crlf(line);
        if text == b"." {
            return Ok(message_id);
        }
        if in_headers {
            if text.is_empty() {
                in_headers = false;
            } else if let Some(value) = header_value(text, b"message-id:") {
                message_id = Some(value);
            }
        }
    }
}

fn trim_crlf(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The first word of a command line, upper-cased.
fn verb_of(line: &[u8]) -> String {
    let text = trim_crlf(line);
    let end = text
        .iter()
        .position(|b| *b == b' ' || *b == b':')
        .unwrap_or(text.len());
    String::from_utf8_lossy(&text[..end]).to_ascii_uppercase()
}

/// The address of `RCPT TO:<a@b>` (or of a bare `RCPT TO:a@b`).
fn address_of(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(trim_crlf(line)).into_owned();
    let after = text.split_once(':').map_or("", |(_, rest)| rest).trim();
    let inner = match (after.find('<'), after.find('>')) {
        (Some(open), Some(close)) if open < close => &after[open + 1..close],
        _ => after.split_whitespace().next().unwrap_or(""),
    };
    inner.to_ascii_lowercase()
}

/// The value of a header line named `name` (lower-case, with its colon).
fn header_value(line: &[u8], name: &[u8]) -> Option<String> {
    if line.len() < name.len() || !line[..name.len()].eq_ignore_ascii_case(name) {
        return None;
    }
    Some(
        String::from_utf8_lossy(&line[name.len()..])
            .trim()
            .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    async fn reply(stream: &mut TcpStream) -> String {
        let mut buf = vec![0u8; 4096];
        let n = stream.read(&mut buf).await.expect("read");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    async fn say(stream: &mut TcpStream, line: &str) -> String {
        stream.write_all(line.as_bytes()).await.expect("write");
        reply(stream).await
    }

    #[tokio::test]
    async fn records_each_message_with_its_recipients_and_message_id() {
        let sink = SmtpSink::start(false).await.expect("sink");
        let mut stream = TcpStream::connect(("127.0.0.1", sink.port))
            .await
            .expect("connect");
        assert!(reply(&mut stream).await.starts_with("220 "));
        let ehlo = say(&mut stream, "EHLO client\r\n").await;
        assert!(
            ehlo.starts_with("250-") && ehlo.contains("\r\n250 "),
            "{ehlo}"
        );
        for round in 0..2 {
            assert!(
                say(&mut stream, "MAIL FROM:<k@w>\r\n")
                    .await
                    .starts_with("250")
            );
            let rcpt = format!("RCPT TO:<Person{round}@School.example>\r\n");
            assert!(say(&mut stream, &rcpt).await.starts_with("250"));
            assert!(say(&mut stream, "DATA\r\n").await.starts_with("354"));
            let body = format!(
                "Subject: hi\r\nMessage-ID: <id{round}@localhost>\r\n\r\nbody\r\n..dot\r\n.\r\n"
            );
            assert!(say(&mut stream, &body).await.starts_with("250"));
        }
        assert!(say(&mut stream, "NOOP\r\n").await.starts_with("250"));
        assert!(say(&mut stream, "QUIT\r\n").await.starts_with("221"));
        let received = sink.received();
        assert_eq!(received.len(), 2);
        assert_eq!(received[1].recipients, ["person1@school.example"]);
        assert_eq!(received[0].message_id.as_deref(), Some("<id0@localhost>"));
    }

    #[tokio::test]
    async fn a_held_sink_greets_only_once_opened() {
        let sink = SmtpSink::start(true).await.expect("sink");
        let mut stream = TcpStream::connect(("127.0.0.1", sink.port))
            .await
            .expect("connect");
        let mut buf = [0u8; 64];
        let early =
            tokio::time::timeout(std::time::Duration::from_millis(200), stream.read(&mut buf))
                .await;
        assert!(early.is_err(), "no greeting before open");
        sink.open();
        assert!(reply(&mut stream).await.starts_with("220 "));
    }
}
