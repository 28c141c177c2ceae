//! Where HotHour's email leaves (the domain's [`Mailer`] port): an SMTP
//! server through `lettre` ([`SmtpMailer`], TLS through rustls with the
//! process's one crypto provider), or `.eml` files in a folder
//! ([`FileMailer`], the embedded default when no server is configured).
//!
//! Both write the same MIME message: `multipart/alternative` text and HTML
//! (the HTML inside `multipart/related` with the images it shows by
//! `cid:`), inside `multipart/mixed` when there are files attached, with the
//! outbox row's stable `Message-ID`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::future::BoxFuture;
use hothour_domain::mail::{MailError, Mailer, OutgoingMail};
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How long one SMTP conversation may take before the message is retried later.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// The message as it goes on the wire.
pub fn mime_message(mail: &OutgoingMail) -> Result<Message, MailError> {
    // A bad address will not get better with time.
    let refused = |what: &str, error: &dyn std::fmt::Display| MailError::Permanent(format!("{what}: {error}"));
    let from: Mailbox = mail.from.parse().map_err(|e| refused("the sender address", &e))?;
    let to_address = mail.to_address.parse().map_err(|e| refused("the recipient address", &e))?;
    let to = Mailbox::new(Some(mail.to_name.clone()).filter(|name| !name.is_empty()), to_address);
    let (inline, files): (Vec<_>, Vec<_>) = mail.attachments.iter().partition(|a| a.content_id.is_some());
    let html = SinglePart::html(mail.html.clone());
    let html = if inline.is_empty() {
        MultiPart::alternative().singlepart(SinglePart::plain(mail.text.clone())).singlepart(html)
    } else {
        let related = inline.iter().try_fold(MultiPart::related().singlepart(html), |related, image| {
            let content_type = ContentType::parse(&image.content_type).map_err(|e| refused("an image's type", &e))?;
            let cid = image.content_id.clone().unwrap_or_default();
            let part =
                Attachment::new_inline_with_name(cid, image.filename.clone()).body(image.content.clone(), content_type);
            Ok::<_, MailError>(related.singlepart(part))
        })?;
        MultiPart::alternative().singlepart(SinglePart::plain(mail.text.clone())).multipart(related)
    };
    let body = if files.is_empty() {
        html
    } else {
        files.iter().try_fold(MultiPart::mixed().multipart(html), |body, attachment| {
            let content_type =
                ContentType::parse(&attachment.content_type).map_err(|e| refused("an attachment's type", &e))?;
            let part = Attachment::new(attachment.filename.clone()).body(attachment.content.clone(), content_type);
            Ok::<_, MailError>(body.singlepart(part))
        })?
    };
    let mut builder = Message::builder()
        .message_id(Some(format!("<{}>", mail.message_id)))
        .from(from)
        .to(to)
        .subject(mail.subject.clone());
    if let Some(url) = &mail.unsubscribe_url {
        builder = builder.header(ListUnsubscribe(format!("<{url}>"))).header(ListUnsubscribePost);
    }
    builder.multipart(body).map_err(|e| refused("the message", &e))
}

/// `List-Unsubscribe: <https://…>` (RFC 2369).
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058): the link
/// stops the messages with one POST, no page to visit.
#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

/// Whether `text` is an address a message can be from: `Name <a@b.c>` or `a@b.c`.
pub fn is_mailbox(text: &str) -> bool {
    text.parse::<Mailbox>().is_ok()
}

/// Sends through an SMTP server, one connection per message.
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// The URL without its password, for the log.
    shown: String,
}

impl SmtpMailer {
    /// A mailer for `url`: `smtp://host:port` (plain; `?tls=required` for
    /// STARTTLS, `?tls=opportunistic` when offered), `smtps://host:port`
    /// (TLS from the start), with `user:password@` to sign in. `hello` names
    /// this host in `EHLO` unless the URL's path does. The TLS crypto
    /// provider must be installed first (`install_crypto_provider`).
    pub fn new(url: &str, hello: &str) -> Result<SmtpMailer, String> {
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| e.to_string())?;
        if !url.split_once("://").is_some_and(|(_, rest)| rest.split_once('?').map_or(rest, |(a, _)| a).contains('/')) {
            builder = builder.hello_name(ClientId::Domain(hello.to_owned()));
        }
        let transport = builder.timeout(Some(SMTP_TIMEOUT)).build();
        Ok(SmtpMailer { transport, shown: without_password(url) })
    }
}

/// `url` with any password replaced by `***`.
pub fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (authority, tail) = rest.split_once(['/', '?']).map_or((rest, ""), |(a, _)| (a, &rest[a.len()..]));
    match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split_once(':').map_or(user_info, |(user, _)| user);
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

impl Mailer for SmtpMailer {
    fn describe(&self) -> String {
        format!("the SMTP server at {}", self.shown)
    }

    fn send<'a>(&'a self, mail: &'a OutgoingMail) -> BoxFuture<'a, Result<(), MailError>> {
        Box::pin(async move {
            let message = mime_message(mail)?;
            match self.transport.send(message).await {
                Ok(_) => Ok(()),
                Err(error) if error.is_permanent() => Err(MailError::Permanent(error.to_string())),
                Err(error) => Err(MailError::Temporary(error.to_string())),
            }
        })
    }
}

/// Writes each message as `<Message-ID>.eml` in a folder: a message written
/// again replaces its file, so a resend leaves one copy.
#[derive(Debug, Clone)]
pub struct FileMailer {
    dir: PathBuf,
}

impl FileMailer {
    /// Writes to `dir`, created with the first message (a service that
    /// sends nothing leaves no folder behind).
    pub fn new(dir: impl Into<PathBuf>) -> FileMailer {
        FileMailer { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file a message is written to: its id, with anything but letters,
    /// digits, `.`, `-`, `_` and `@` replaced.
    pub fn file_of(&self, message_id: &str) -> PathBuf {
        let name: String =
            message_id.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_@".contains(c) { c } else { '_' }).collect();
        self.dir.join(format!("{name}.eml"))
    }
}

impl Mailer for FileMailer {
    fn describe(&self) -> String {
        format!(".eml files in {}", self.dir.display())
    }

    fn send<'a>(&'a self, mail: &'a OutgoingMail) -> BoxFuture<'a, Result<(), MailError>> {
        Box::pin(async move {
            let bytes = mime_message(mail)?.formatted();
            let path = self.file_of(&mail.message_id);
            // Written aside, then renamed: a reader never sees half a message.
            let partial = path.with_extension("eml.partial");
            let failed = |e: std::io::Error| MailError::Temporary(format!("cannot write {}: {e}", path.display()));
            tokio::fs::create_dir_all(&self.dir).await.map_err(failed)?;
            tokio::fs::write(&partial, bytes).await.map_err(failed)?;
            tokio::fs::rename(&partial, &path).await.map_err(failed)
        })
    }
}

#[cfg(test)]
mod tests {
    use hothour_domain::mail::Attachment as MailAttachment;

    use super::*;

    fn mail() -> OutgoingMail {
        OutgoingMail {
            message_id: "hothour-mail-7@hothour.example".into(),
            from: "HotHour <no-reply@hothour.example>".into(),
            to_name: "Ada Lovelace".into(),
            to_address: "ada@example.com".into(),
            subject: "Rezervasyonunuz onaylandı".into(),
            text: "Merhaba Ada".into(),
            html: "<p>Merhaba Ada</p>".into(),
            attachments: vec![MailAttachment {
                filename: "hothour-7.ics".into(),
                content_type: "text/calendar; charset=utf-8; method=PUBLISH".into(),
                content: b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".to_vec(),
                content_id: None,
            }],
            unsubscribe_url: Some("https://hothour.example/api/v1/mail/unsubscribe?token=abc".into()),
        }
    }

    #[test]
    fn a_message_has_its_id_its_parts_and_its_attachment() {
        let text = String::from_utf8(mime_message(&mail()).unwrap().formatted()).unwrap();
        assert!(text.contains("Message-ID: <hothour-mail-7@hothour.example>"), "{text}");
        assert!(
            text.contains("List-Unsubscribe: <https://hothour.example/api/v1/mail/unsubscribe?token=abc>"),
            "{text}"
        );
        assert!(text.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{text}");
        assert!(text.contains("multipart/mixed") && text.contains("multipart/alternative"), "{text}");
        assert!(text.contains("text/plain") && text.contains("text/html"), "{text}");
        assert!(text.contains("hothour-7.ics"), "{text}");
        let mut bad = mail();
        bad.to_address = "not an address".into();
        assert!(matches!(mime_message(&bad), Err(MailError::Permanent(_))));
    }

    #[test]
    fn an_inline_image_goes_beside_the_html_under_its_content_id() {
        let mut with_image = mail();
        with_image.attachments.push(MailAttachment {
            filename: "qr.png".into(),
            content_type: "image/png".into(),
            content: b"\x89PNG".to_vec(),
            content_id: Some("qr-7@hothour.example".into()),
        });
        let text = String::from_utf8(mime_message(&with_image).unwrap().formatted()).unwrap();
        let related = text.find("multipart/related").expect("the HTML and its image together");
        let html = text.find("text/html").expect("the HTML");
        let image = text.find("Content-ID: <qr-7@hothour.example>").expect("the image's Content-ID");
        assert!(related < html && html < image, "{text}");
        assert!(text.contains("Content-Disposition: inline"), "{text}");
        assert!(text.find("multipart/mixed").is_some_and(|mixed| mixed < related), "the calendar file still attached");
    }

    #[test]
    fn passwords_stay_out_of_the_log() {
        assert_eq!(
            without_password("smtp://ada:s3cret@mail.example:587?tls=required"),
            "smtp://ada:***@mail.example:587?tls=required"
        );
        assert_eq!(without_password("smtps://mail.example"), "smtps://mail.example");
        assert_eq!(without_password("smtp://ada@mail.example/ehlo"), "smtp://ada:***@mail.example/ehlo");
    }

    #[tokio::test]
    async fn files_are_named_by_message_id_and_a_resend_replaces_its_file() {
        let dir = std::env::temp_dir().join(format!("hothour-mail-test-{}", std::process::id()));
        let mailer = FileMailer::new(&dir);
        mailer.send(&mail()).await.unwrap();
        mailer.send(&mail()).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|entry| entry.unwrap().file_name()).collect();
        assert_eq!(files, ["hothour-mail-7@hothour.example.eml"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
