//! How long a committed change takes to reach a WebSocket subscriber on
//! another instance: one socket on `--observe` (a second server on the same
//! database) follows the studio's room while the load runs on the first.
//!
//! Each `availability_changed` frame names an event and how many live holds
//! it has: a frame saying `n` is the first news of that event's first `n`
//! holds. A hold's latency is the frame's arrival minus the moment its 201
//! answer arrived (the commit is older still, so this is a lower bound of
//! commit-to-frame, by at most the answer's own way back). A frame that comes
//! before the answer counts as 0.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value as Json, json};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use crate::load::percentile;
use crate::setup::Result;

/// Arrival times per event, in order.
type Arrivals = Arc<Mutex<HashMap<i64, Vec<(u32, Instant)>>>>;

/// A socket following a studio's room on another instance.
pub struct Observer {
    frames: Arrivals,
    answers: Mutex<HashMap<i64, Vec<Instant>>>,
    stop: watch::Sender<bool>,
    reader: Mutex<Option<tokio::task::JoinHandle<Result<()>>>>,
}

async fn next_frame<S>(ws: &mut S) -> Result<Json>
where
    S: StreamExt<Item = std::result::Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => return Ok(serde_json::from_str(&text)?),
            Some(Ok(_)) => {}
            Some(Err(error)) => return Err(error.into()),
            None => return Err("the observed socket closed".into()),
        }
    }
}

impl Observer {
    /// Signs in on `base_url`'s socket with `token` and follows `studio`'s room.
    pub async fn follow(base_url: &str, token: &str, studio: i64) -> Result<Observer> {
        crate::setup::check_local(base_url)?;
        let url = format!("{}/api/v1/ws", base_url.trim_end_matches('/').replacen("http://", "ws://", 1));
        let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str()).await?;
        ws.send(Message::text(json!({"op": "auth", "token": token}).to_string())).await?;
        while next_frame(&mut ws).await?["type"] != "authenticated" {}
        ws.send(Message::text(json!({"op": "subscribe", "room": format!("studio:{studio}")}).to_string())).await?;
        while next_frame(&mut ws).await?["type"] != "subscribed" {}

        let frames: Arrivals = Arc::default();
        let (stop, mut stopped) = watch::channel(false);
        let arrivals = frames.clone();
        let reader = tokio::spawn(async move {
            loop {
                let frame = tokio::select! {
                    frame = next_frame(&mut ws) => frame?,
                    _ = stopped.changed() => return Ok(()),
                };
                let at = Instant::now();
                if frame["type"] == "room_closed" || frame["type"] == "error" {
                    return Err(format!("the observed socket was told: {frame}").into());
                }
                if frame["type"] != "availability_changed" {
                    continue;
                }
                let (Some(event), Some(held)) = (frame["data"]["id"].as_i64(), frame["data"]["held_count"].as_u64())
                else {
                    continue;
                };
                let mut arrivals = arrivals.lock().unwrap_or_else(PoisonError::into_inner);
                arrivals.entry(event).or_default().push((held as u32, at));
            }
        });
        Ok(Observer { frames, answers: Mutex::default(), stop, reader: Mutex::new(Some(reader)) })
    }

    /// A hold on `event` was answered 201 now.
    pub fn answered(&self, event: i64) {
        let mut answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        answers.entry(event).or_default().push(Instant::now());
    }

    /// Waits `grace` for the last frames, stops, and prints each hold's latency.
    pub async fn report(&self, grace: Duration) -> Result<()> {
        tokio::time::sleep(grace).await;
        let _ = self.stop.send(true);
        let reader = self.reader.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(reader) = reader {
            reader.await??;
        }
        let frames = self.frames.lock().unwrap_or_else(PoisonError::into_inner);
        let answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        let (mut latencies_us, mut unheard) = (Vec::new(), 0usize);
        for (event, answered) in answers.iter() {
            let mut answered = answered.clone();
            answered.sort_unstable();
            let heard = frames.get(event).map(Vec::as_slice).unwrap_or_default();
            for (rank, at) in answered.iter().enumerate() {
                // The first frame that counts this hold among the event's live ones.
                match heard.iter().find(|(held, _)| *held as usize > rank) {
                    Some((_, heard_at)) => {
                        latencies_us.push(heard_at.saturating_duration_since(*at).as_micros() as u64)
                    }
                    None => unheard += 1,
                }
            }
        }
        latencies_us.sort_unstable();
        let ms = |p: f64| percentile(&latencies_us, p) as f64 / 1000.0;
        println!(
            "  on the other instance: {} holds heard, {unheard} not heard; ms after the 201: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
            latencies_us.len(),
            ms(50.0),
            ms(90.0),
            ms(99.0),
            ms(100.0)
        );
        println!(
            "  json: {}",
            json!({"scenario": "cross-instance", "heard": latencies_us.len(), "unheard": unheard,
                   "p50_ms": ms(50.0), "p90_ms": ms(90.0), "p99_ms": ms(99.0), "max_ms": ms(100.0)})
        );
        Ok(())
    }
}
