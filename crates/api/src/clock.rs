//! Waiting for an instant: the wall clock in service, a clock the test moves in tests.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use hothour_domain::{Clock, ManualClock, SystemClock};
use tokio::sync::watch;

/// A clock that can also wait until an instant.
pub trait LiveClock: Clock {
    fn sleep_until(&self, at: DateTime<Utc>) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

impl LiveClock for SystemClock {
    fn sleep_until(&self, at: DateTime<Utc>) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let wait = (at - Utc::now()).to_std().unwrap_or_default();
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A manual clock whose sleepers wake when a test moves it; never waits on real time.
#[derive(Debug, Clone)]
pub struct TestClock {
    clock: ManualClock,
    moved: Arc<watch::Sender<()>>,
}

impl TestClock {
    pub fn new(start: DateTime<Utc>) -> TestClock {
        TestClock { clock: ManualClock::new(start), moved: Arc::new(watch::Sender::new(())) }
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
        self.moved.send_replace(());
    }

    pub fn set(&self, at: DateTime<Utc>) {
        self.clock.set(at);
        self.moved.send_replace(());
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

impl LiveClock for TestClock {
    fn sleep_until(&self, at: DateTime<Utc>) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            let mut moved = self.moved.subscribe();
            while self.now() < at {
                if moved.changed().await.is_err() {
                    return;
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn test_sleepers_wake_when_the_clock_passes_their_instant() {
        let clock = TestClock::new(Utc::now());
        let at = clock.now() + Duration::minutes(5);
        let sleeper = {
            let clock = clock.clone();
            tokio::spawn(async move { clock.sleep_until(at).await })
        };
        tokio::task::yield_now().await;
        clock.advance(Duration::minutes(4));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        clock.advance(Duration::minutes(1));
        tokio::time::timeout(std::time::Duration::from_secs(1), sleeper).await.expect("woke").unwrap();
    }
}
