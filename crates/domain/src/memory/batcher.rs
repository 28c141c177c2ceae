//! Group commit: concurrent requests on one key (an event) share one lock and
//! one commit.
//!
//! A request joins its key's queue, then waits for its answer or the key's
//! gate, whichever comes first. Whoever holds the gate takes every queued
//! request (up to a bound), in arrival order, runs them as one batch and hands
//! each its own answer, waking its owner. A request still queued when it gets
//! the gate runs the next batch itself. The queue is taken from the front, so
//! a request is answered within the batches ahead of it, however unfair the
//! gate, and no task is spawned: the batcher needs no runtime.
//!
//! A batch dropped half-way (its caller went away) leaves its requests
//! unanswered; each of them, on getting the gate, runs alone.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::hash::Hash;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use futures_util::future::{Either, select};
use futures_util::lock::Mutex as Gate;

/// What happened to a queued request.
enum Slot<R> {
    Queued,
    /// Taken into a batch that has not answered (yet).
    Taken,
    Answered(R),
}

/// A request's slot, and the waker of its owner waiting for an answer.
struct Cell<R> {
    slot: Slot<R>,
    waker: Option<Waker>,
}

type SharedCell<R> = Arc<Mutex<Cell<R>>>;

struct Entry<Q, R> {
    request: Q,
    cell: SharedCell<R>,
}

/// Resolves once the request's answer is in its slot.
struct Answered<'a, R>(&'a Mutex<Cell<R>>);

impl<R> Future for Answered<'_, R> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut cell = lock(self.0);
        if matches!(cell.slot, Slot::Answered(_)) {
            Poll::Ready(())
        } else {
            cell.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

fn set<R>(cell: &Mutex<Cell<R>>, slot: Slot<R>) {
    let waker = {
        let mut cell = lock(cell);
        cell.slot = slot;
        cell.waker.take()
    };
    if let Some(waker) = waker {
        waker.wake();
    }
}

struct Lane<Q, R> {
    queue: Mutex<VecDeque<Entry<Q, R>>>,
    gate: Gate<()>,
}

/// Batches of requests per key; share one per kind of request.
pub struct Batcher<K, Q, R> {
    lanes: Mutex<HashMap<K, Arc<Lane<Q, R>>>>,
    max_batch: usize,
    batches: AtomicU64,
    requests: AtomicU64,
}

impl<K, Q, R> std::fmt::Debug for Batcher<K, Q, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher").field("max_batch", &self.max_batch).finish_non_exhaustive()
    }
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // No code here panics while holding a lock, but a poisoned queue is still a valid queue.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<K, Q, R> Batcher<K, Q, R>
where
    K: Hash + Eq + Clone,
    Q: Clone,
{
    /// A batcher running at most `max_batch` requests together (at least one).
    pub fn new(max_batch: usize) -> Self {
        Batcher {
            lanes: Mutex::new(HashMap::new()),
            max_batch: max_batch.max(1),
            batches: AtomicU64::new(0),
            requests: AtomicU64::new(0),
        }
    }

    /// How many batches ran so far, and how many requests they held.
    pub fn counts(&self) -> (u64, u64) {
        (self.batches.load(Ordering::Relaxed), self.requests.load(Ordering::Relaxed))
    }

    /// Runs `request` in a batch with the other requests on `key`, answering
    /// with its own result. `run` gets the batch's requests in arrival order
    /// and must answer each, in the same order.
    pub async fn submit<F, Fut>(&self, key: K, request: Q, run: F) -> R
    where
        F: Fn(Vec<Q>) -> Fut,
        Fut: Future<Output = Vec<R>>,
    {
        let lane = lock(&self.lanes).entry(key.clone()).or_insert_with(|| Arc::new(Lane::new())).clone();
        let cell = Arc::new(Mutex::new(Cell { slot: Slot::Queued, waker: None }));
        lock(&lane.queue).push_back(Entry { request: request.clone(), cell: cell.clone() });

        let answer = loop {
            let turn = match select(pin!(Answered(&cell)), pin!(lane.gate.lock())).await {
                Either::Left(_) => None,
                Either::Right((turn, _)) => Some(turn),
            };
            let slot = std::mem::replace(&mut lock(&cell).slot, Slot::Taken);
            match slot {
                Slot::Answered(answer) => break answer,
                // Taken by a batch that is not running although we hold the
                // gate (only an answer ends the wait otherwise): its caller
                // went away. Run alone.
                Slot::Taken => {
                    self.count(1);
                    break run(vec![request]).await.pop().expect("a batch answers each request");
                }
                // Still queued: run the next batch, which may hold ours.
                Slot::Queued => {
                    lock(&cell).slot = Slot::Queued;
                    let size = lane.run_batch(self.max_batch, &run).await;
                    self.count(size);
                }
            }
            drop(turn);
        };
        self.forget_if_idle(&key, &lane);
        answer
    }

    fn count(&self, requests: usize) {
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.requests.fetch_add(requests as u64, Ordering::Relaxed);
    }

    fn forget_if_idle(&self, key: &K, lane: &Arc<Lane<Q, R>>) {
        let mut lanes = lock(&self.lanes);
        // The map's reference and ours: nobody else is queued or waiting.
        if Arc::strong_count(lane) == 2 && lock(&lane.queue).is_empty() {
            lanes.remove(key);
        }
    }
}

impl<Q, R> Lane<Q, R> {
    fn new() -> Self {
        Lane { queue: Mutex::new(VecDeque::new()), gate: Gate::new(()) }
    }
}

impl<Q: Clone, R> Lane<Q, R> {
    /// Takes up to `max` queued requests, runs them, and answers each through
    /// its slot. Returns how many it ran.
    async fn run_batch<F, Fut>(&self, max: usize, run: &F) -> usize
    where
        F: Fn(Vec<Q>) -> Fut,
        Fut: Future<Output = Vec<R>>,
    {
        let batch: Vec<Entry<Q, R>> = {
            let mut queue = lock(&self.queue);
            let take = queue.len().min(max);
            queue.drain(..take).collect()
        };
        let size = batch.len();
        for entry in &batch {
            lock(&entry.cell).slot = Slot::Taken;
        }
        let answers = run(batch.iter().map(|entry| entry.request.clone()).collect()).await;
        assert_eq!(answers.len(), batch.len(), "a batch answers each of its requests");
        for (entry, answer) in batch.into_iter().zip(answers) {
            set(&entry.cell, Slot::Answered(answer));
        }
        size
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use futures_executor::LocalPool;
    use futures_util::task::LocalSpawnExt;

    use super::*;

    /// Spawns `n` requests on one key at once; returns each answer and the batches run.
    fn race(n: u32, max_batch: usize) -> (Vec<u32>, Vec<Vec<u32>>) {
        let batcher = Rc::new(Batcher::<u8, u32, u32>::new(max_batch));
        let batches = Rc::new(RefCell::new(Vec::new()));
        let answers = Rc::new(RefCell::new(Vec::new()));
        let mut pool = LocalPool::new();
        for request in 0..n {
            let (batcher, batches, answers) = (batcher.clone(), batches.clone(), answers.clone());
            pool.spawner()
                .spawn_local(async move {
                    let answer = batcher
                        .submit(7, request, |batch: Vec<u32>| {
                            batches.borrow_mut().push(batch.clone());
                            async move {
                                // Yield once, as a database round trip would, so others queue up.
                                futures_util::future::ready(()).await;
                                YieldOnce(false).await;
                                batch.iter().map(|r| r * 10).collect()
                            }
                        })
                        .await;
                    answers.borrow_mut().push((request, answer));
                })
                .unwrap();
        }
        pool.run();
        let mut answers = answers.borrow().clone();
        answers.sort();
        assert!(answers.iter().all(|(request, answer)| *answer == request * 10), "each gets its own answer");
        assert!(batcher.lanes.lock().unwrap().is_empty(), "an idle key is forgotten");
        let batches = batches.borrow().clone();
        (answers.into_iter().map(|(_, a)| a).collect(), batches)
    }

    struct YieldOnce(bool);

    impl Future for YieldOnce {
        type Output = ();
        fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
            if self.0 {
                std::task::Poll::Ready(())
            } else {
                self.0 = true;
                cx.waker().wake_by_ref();
                std::task::Poll::Pending
            }
        }
    }

    #[test]
    fn concurrent_requests_share_batches_and_keep_their_order() {
        let (answers, batches) = race(100, 64);
        assert_eq!(answers.len(), 100);
        assert!(batches.len() < 100, "requests were coalesced: {} batches", batches.len());
        assert!(batches.iter().all(|batch| batch.len() <= 64), "batches are bounded");
        let flat: Vec<u32> = batches.concat();
        assert_eq!(flat, (0..100).collect::<Vec<_>>(), "each request runs once, in arrival order");
    }

    #[test]
    fn a_lone_request_runs_alone() {
        let (answers, batches) = race(1, 64);
        assert_eq!((answers, batches), (vec![0], vec![vec![0]]));
    }

    #[test]
    fn a_bound_of_one_runs_every_request_alone() {
        let (_, batches) = race(20, 1);
        assert_eq!(batches.len(), 20);
    }

    #[test]
    fn requests_orphaned_by_a_dropped_batch_run_alone() {
        let batcher = Rc::new(Batcher::<u8, u32, u32>::new(8));
        let batches = Rc::new(RefCell::new(Vec::new()));
        let answers = Rc::new(RefCell::new(Vec::new()));
        let mut pool = LocalPool::new();
        let mut handles = Vec::new();
        for request in 0..3 {
            let (batcher, batches, answers) = (batcher.clone(), batches.clone(), answers.clone());
            let task = async move {
                let answer = batcher
                    .submit(1, request, |batch: Vec<u32>| {
                        batches.borrow_mut().push(batch.clone());
                        async move {
                            if batch == [1, 2] {
                                // This batch's caller goes away before it answers.
                                futures_util::future::pending::<()>().await;
                            }
                            YieldOnce(false).await;
                            batch.iter().map(|r| r * 10).collect()
                        }
                    })
                    .await;
                answers.borrow_mut().push((request, answer));
            };
            let (task, handle) = futures_util::future::abortable(task);
            pool.spawner().spawn_local(async move { task.await.unwrap_or(()) }).unwrap();
            handles.push(handle);
        }
        pool.run_until_stalled();
        assert_eq!(*batches.borrow(), vec![vec![0], vec![1, 2]], "request 1 runs the batch of 1 and 2");
        handles[1].abort();
        pool.run_until_stalled();
        assert_eq!(*batches.borrow(), vec![vec![0], vec![1, 2], vec![2]], "the orphan ran alone");
        assert_eq!(*answers.borrow(), vec![(0, 0), (2, 20)]);
        assert!(batcher.lanes.lock().unwrap().is_empty());
    }
}
