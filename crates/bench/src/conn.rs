//! One keep-alive HTTP/1.1 connection to the server, driven through hyper's
//! client connection directly: no pool to check out of, no URL to parse, no
//! timer per request. The tool shares the machine's cores with the server and
//! PostgreSQL, so every microsecond it spends is taken from what it measures
//! (through reqwest it spent about twice as much per request; BENCHMARKS.md).

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::Value as Json;
use tokio::net::TcpStream;
use tokio::sync::Mutex;

use crate::setup::Reply;

/// A connection to one server; clones share it (one request at a time).
/// A connection the server closed is opened again on the next request.
#[derive(Clone)]
pub struct Conn {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    /// `host:port`, connected to and sent as `Host`.
    authority: String,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Conn {
    /// A connection (opened on first use) to the server at `base`, `http://host:port`.
    pub fn to(base: &str) -> Conn {
        let authority = base.trim_start_matches("http://").trim_end_matches('/').to_owned();
        Conn { inner: Arc::new(Mutex::new(Inner { authority, sender: None })) }
    }

    /// `GET path` (`/api/v1/…`).
    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, None).await
    }

    /// `POST path` with `body` as JSON (none when `None`), as the holder of `token`.
    pub async fn post(&self, path: &str, token: &str, body: Option<&Json>) -> Reply {
        self.send(Method::POST, path, Some(token), body).await
    }

    async fn send(&self, method: Method, path: &str, token: Option<&str>, body: Option<&Json>) -> Reply {
        let mut inner = self.inner.lock().await;
        match inner.send(method, path, token, body).await {
            Ok(reply) => reply,
            Err(kind) => {
                inner.sender = None;
                Reply { status: None, body: Json::String(kind.into()) }
            }
        }
    }
}

impl Inner {
    async fn send(
        &mut self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Json>,
    ) -> Result<Reply, &'static str> {
        let host = HeaderValue::from_str(&self.authority).map_err(|_| "request")?;
        let sender = self.ready().await?;
        let mut request = Request::builder().method(method).uri(path);
        let headers = request.headers_mut().ok_or("request")?;
        headers.insert(HOST, host);
        if let Some(token) = token {
            let bearer = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| "request")?;
            headers.insert(AUTHORIZATION, bearer);
        }
        let body = match body {
            Some(json) => {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                Bytes::from(serde_json::to_vec(json).map_err(|_| "request")?)
            }
            None => Bytes::new(),
        };
        let request = request.body(Full::new(body)).map_err(|_| "request")?;
        let response = sender.send_request(request).await.map_err(|_| "transport")?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.map_err(|_| "transport")?.to_bytes();
        Ok(Reply { status: Some(status), body: serde_json::from_slice(&bytes).unwrap_or(Json::Null) })
    }

    /// The connection, opened if it is not (or no longer) open, ready for a request.
    async fn ready(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, &'static str> {
        if self.sender.as_ref().is_none_or(|sender| sender.is_closed()) {
            let stream = TcpStream::connect(&self.authority).await.map_err(|_| "connect")?;
            stream.set_nodelay(true).map_err(|_| "connect")?;
            let (sender, connection) = http1::handshake(TokioIo::new(stream)).await.map_err(|_| "connect")?;
            tokio::spawn(connection);
            self.sender = Some(sender);
        }
        let sender = self.sender.as_mut().ok_or("connect")?;
        sender.ready().await.map_err(|_| "transport")?;
        Ok(sender)
    }
}
