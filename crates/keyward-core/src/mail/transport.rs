//! Transports (R-MAIL-2): how a composed message leaves keyward. `smtp`
//! through lettre (plain, STARTTLS or TLS, optional credentials, a timeout)
//! on reused connections (`smtp.rs`);
//! `file`, one `.eml` file per message under `<data_dir>/mail/` (what
//! `/dev/mail` shows); `log`, one log line with the recipient and subject only
//! — bodies carry links and codes and are never logged. Every message is
//! multipart/alternative (plain text and HTML) from `mail.from`, with a
//! `Message-ID` derived from its outbox row, so a rare resend after a crash
//! carries the same id.

use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use lettre::Message;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::TlsParameters;
use lettre::transport::smtp::extension::ClientId;
use tokio::io::AsyncWriteExt;

use super::smtp::{Security, SmtpSender, SmtpServer};
use super::{OutboxRow, RenderedEmail};
use crate::Ctx;
use crate::error::Internal;
use crate::settings::{MailTransportKind, Settings, SmtpSecurity};

/// The folder under the data directory that the file transport writes to.
pub const MAIL_DIR_NAME: &str = "mail";

/// Longest a file or log "send" may take.
const LOCAL_SEND_DEADLINE: Duration = Duration::from_secs(30);

/// Why a message did not go out. The text is short and never holds the body.
#[derive(Debug)]
pub(crate) enum SendError {
    /// Worth trying again later (server down, timeout, 4xx).
    Transient(String),
    /// Trying again cannot help (the address or message is malformed).
    Permanent(String),
}

impl SendError {
    pub(crate) fn text(&self) -> &str {
        match self {
            SendError::Transient(text) | SendError::Permanent(text) => text,
        }
    }

    pub(crate) fn is_permanent(&self) -> bool {
        matches!(self, SendError::Permanent(_))
    }
}

enum Kind {
    Smtp(SmtpSender),
    File(PathBuf),
    Log,
}

pub(crate) struct Transport {
    kind: Kind,
    from: Mailbox,
    /// The domain of `Message-ID`s: the sender's.
    message_id_domain: String,
    send_deadline: Duration,
}

impl Transport {
    pub(crate) fn from_settings(settings: &Settings) -> Result<Transport, Internal> {
        let mail = &settings.mail;
        let from: Mailbox = mail
            .from
            .parse()
            .map_err(|e| Internal::new(format!("mail.from is not an address: {e}")))?;
        let message_id_domain = from.email.domain().to_owned();
        let (kind, send_deadline) = match mail.transport {
            MailTransportKind::Smtp => {
                // Connecting may take `mail.smtp.timeout`; a whole message,
                // connecting included, is cut off at twice that.
                let sender = SmtpSender::new(smtp_server(settings)?, mail.max_parallel);
                (Kind::Smtp(sender), mail.smtp.timeout * 2)
            }
            MailTransportKind::File => (
                Kind::File(settings.server.data_dir.join(MAIL_DIR_NAME)),
                LOCAL_SEND_DEADLINE,
            ),
            MailTransportKind::Log => (Kind::Log, LOCAL_SEND_DEADLINE),
        };
        Ok(Transport {
            kind,
            from,
            message_id_domain,
            send_deadline,
        })
    }

    pub(crate) async fn send(
        &self,
        ctx: &Ctx<'_>,
        row: &OutboxRow,
        email: &RenderedEmail,
    ) -> Result<(), SendError> {
        let message = self.build(ctx, row, email)?;
        let sending = async {
            match &self.kind {
                Kind::Smtp(smtp) => smtp.send(message.envelope(), &message.formatted()).await,
                Kind::File(dir) => write_eml(dir, ctx, row, &message.formatted())
                    .await
                    .map_err(|e| SendError::Transient(format!("cannot write the .eml file: {e}"))),
                Kind::Log => {
                    tracing::info!(to = %email.to, subject = %email.subject, outbox_id = %row.id, "email (log transport, not delivered)");
                    Ok(())
                }
            }
        };
        match tokio::time::timeout(self.send_deadline, sending).await {
            Ok(result) => result,
            Err(_) => Err(SendError::Transient(format!(
                "sending took longer than {}s",
                self.send_deadline.as_secs()
            ))),
        }
    }

    fn build(
        &self,
        ctx: &Ctx<'_>,
        row: &OutboxRow,
        email: &RenderedEmail,
    ) -> Result<Message, SendError> {
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|e| SendError::Permanent(format!("bad recipient address: {e}")))?;
        let date = UNIX_EPOCH + Duration::from_secs(u64::try_from(ctx.now.secs()).unwrap_or(0));
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .date(date)
            .message_id(Some(format!("<{}@{}>", row.id, self.message_id_domain)))
            .multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                email.html.clone(),
            ))
            .map_err(|e| SendError::Permanent(format!("cannot build the message: {e}")))
    }
}

/// The name keyward greets the SMTP server with: the public URL's host.
fn hello_name(settings: &Settings) -> ClientId {
    match settings.server.public_url.host() {
        Some(url::Host::Domain(domain)) => ClientId::Domain(domain.to_owned()),
        Some(url::Host::Ipv4(ip)) => ClientId::Ipv4(ip),
        Some(url::Host::Ipv6(ip)) => ClientId::Ipv6(ip),
        None => ClientId::default(),
    }
}

/// The SMTP server of `mail.smtp.*`.
fn smtp_server(settings: &Settings) -> Result<SmtpServer, Internal> {
    let smtp = &settings.mail.smtp;
    let tls = || {
        TlsParameters::new(smtp.host.clone())
            .map_err(|e| Internal::new(format!("mail.smtp: TLS set-up failed: {e}")))
    };
    let security = match smtp.security {
        SmtpSecurity::None => Security::Plain,
        SmtpSecurity::Starttls => Security::Starttls(tls()?),
        SmtpSecurity::Tls => Security::Wrapper(tls()?),
    };
    let credentials = (!smtp.username.is_empty())
        .then(|| Credentials::new(smtp.username.clone(), smtp.password.clone()));
    Ok(SmtpServer {
        host: smtp.host.clone(),
        port: smtp.port,
        connect_timeout: smtp.timeout,
        hello: hello_name(settings),
        security,
        credentials,
    })
}

/// Writes the message as `<data_dir>/mail/<time>-<outbox id>.eml`, readable
/// by the owner only, through a temporary file so a reader never sees half a
/// message.
async fn write_eml(
    dir: &std::path::Path,
    ctx: &Ctx<'_>,
    row: &OutboxRow,
    bytes: &[u8],
) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let name = format!("{:011}-{}", ctx.now.secs().max(0), row.id);
    let tmp = dir.join(format!(".{name}.tmp"));
    let path = dir.join(format!("{name}.eml"));
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(&tmp).await?;
    file.write_all(bytes).await?;
    file.sync_all().await?;
    drop(file);
    tokio::fs::rename(&tmp, &path).await
}
