//! The kernel's floor under the ws fan-out: what one `write` of a frame to
//! each of many loopback TCP sockets costs the writing thread, with nothing
//! of HotHour, actix or tokio on the sending side. The receiving ends are read
//! by tokio tasks in this process, as the fan-out's WebSocket clients are; the
//! loopback delivery into them is done by the writing thread's system call,
//! as it is by the server's, so the two figures compare.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

use crate::setup::Result;

/// What the writing thread spent per socket in each round, in µs.
pub struct Floor {
    pub sockets: usize,
    pub per_socket_us: Vec<f64>,
}

impl Floor {
    pub fn median_us(&self) -> f64 {
        let mut sorted = self.per_socket_us.clone();
        sorted.sort_by(f64::total_cmp);
        sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
    }
}

/// The CPU time this thread has run, in ns (`/proc/thread-self/schedstat`).
fn thread_cpu_ns() -> Result<u64> {
    let schedstat = std::fs::read_to_string("/proc/thread-self/schedstat")?;
    let ran = schedstat.split_whitespace().next().ok_or("empty /proc/thread-self/schedstat")?;
    Ok(ran.parse()?)
}

/// `rounds` times, writes `frame_bytes` bytes (a frame header and its text)
/// to each of `sockets` loopback connections and waits until every reader has
/// them.
pub async fn measure(sockets: usize, rounds: usize, frame_bytes: usize) -> Result<Floor> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let address = listener.local_addr()?;
    let (arrived_tx, mut arrived) = mpsc::unbounded_channel::<()>();
    let mut writers = Vec::with_capacity(sockets);
    for _ in 0..sockets {
        let reader = TcpStream::connect(address)?;
        let (writer, _) = listener.accept()?;
        writer.set_nodelay(true)?;
        reader.set_nonblocking(true)?;
        writers.push(writer);
        let mut reader = tokio::net::TcpStream::from_std(reader)?;
        let arrived_tx = arrived_tx.clone();
        tokio::spawn(async move {
            let mut buffer = vec![0; 4096];
            let mut pending = 0;
            while let Ok(read) = reader.read(&mut buffer).await {
                if read == 0 {
                    break;
                }
                pending += read;
                while pending >= frame_bytes {
                    pending -= frame_bytes;
                    let _ = arrived_tx.send(());
                }
            }
        });
    }
    drop(arrived_tx);

    // The writing thread: blocking writes, one per socket per round.
    let (go_tx, go_rx) = std_mpsc::channel::<()>();
    let (spent_tx, mut spent) = mpsc::unbounded_channel::<Result<u64>>();
    let frame = vec![b'x'; frame_bytes];
    let writer = std::thread::spawn(move || {
        while go_rx.recv().is_ok() {
            let round = (|| {
                let before = thread_cpu_ns()?;
                for socket in &mut writers {
                    socket.write_all(&frame)?;
                }
                Ok(thread_cpu_ns()? - before)
            })();
            if spent_tx.send(round).is_err() {
                break;
            }
        }
    });

    let mut per_socket_us = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        go_tx.send(()).map_err(|_| "the writing thread stopped")?;
        let ns = spent.recv().await.ok_or("the writing thread stopped")??;
        for _ in 0..sockets {
            tokio::time::timeout(Duration::from_secs(15), arrived.recv())
                .await
                .map_err(|_| "a frame did not arrive within 15 s")?
                .ok_or("a reader stopped")?;
        }
        per_socket_us.push(ns as f64 / 1000.0 / sockets as f64);
    }
    drop(go_tx);
    writer.join().map_err(|_| "the writing thread panicked")?;
    Ok(Floor { sockets, per_socket_us })
}
