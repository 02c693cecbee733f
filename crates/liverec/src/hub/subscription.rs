//! A subscriber's view of one live stream: the pre-roll backlog it started
//! from, then live packets through a queue of its own, bounded in packets
//! and in bytes. A subscriber that falls further behind loses its oldest
//! packets (counted, reported once as [`Next::Lost`]) so the caller can
//! resynchronize at a keyframe; the publisher never waits for it. Where a
//! mix starts or stops replacing the stream (A+B=A) the queue carries a
//! [`Next::Switch`] between the two sources' packets.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

use super::Packet;

/// Packets queued per subscriber before it starts losing the oldest.
pub(super) const MAX_QUEUED_PACKETS: usize = 4096;

/// Payload bytes queued per subscriber before it starts losing the oldest
/// (payloads are shared with the pre-roll and other subscribers; this
/// bounds what one slow subscriber keeps alive beyond them).
pub(super) const MAX_QUEUED_BYTES: usize = 64 << 20;

/// What [`Subscription::next`] yields.
#[derive(Debug)]
pub enum Next {
    /// The next packet.
    Packet(Packet),
    /// This many packets were lost; continue from the next keyframe.
    Lost(u64),
    /// The stream's media changes source here (a mix started or stopped
    /// replacing it, A+B=A): what follows has other codec settings and
    /// its own timeline, starting at a keyframe.
    Switch,
    /// The publisher ended the stream.
    End,
}

/// One entry of a subscriber's queue.
#[derive(Debug)]
enum Item {
    Packet(Packet),
    Switch,
}

#[derive(Debug, Default)]
struct QueueState {
    items: VecDeque<Item>,
    bytes: usize,
    lost: u64,
    closed: bool,
}

/// One subscriber's queue, filled by the publisher.
#[derive(Debug, Default)]
pub(super) struct Queue {
    state: Mutex<QueueState>,
    /// One waiter (the subscriber); a notification sent while it is not
    /// waiting is kept for its next wait.
    ready: Notify,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends a packet, dropping the oldest beyond the caps. The
    /// subscriber is woken only when the queue was empty: it waits only
    /// once it has found the queue empty, and until then takes whatever
    /// was added (one wake-up per burst of packets, not one per packet).
    pub(super) fn push(&self, packet: Packet) {
        let was_empty;
        {
            let mut st = self.lock();
            if st.closed {
                return;
            }
            was_empty = st.items.is_empty();
            st.bytes += packet.frame.data.len();
            st.items.push_back(Item::Packet(packet));
            // A switch marker is never lost: the packets after it that go
            // are counted, and it stays in front of the rest.
            let mut switch = false;
            while st.items.len() > MAX_QUEUED_PACKETS || st.bytes > MAX_QUEUED_BYTES {
                match st.items.pop_front() {
                    Some(Item::Packet(old)) => {
                        st.bytes -= old.frame.data.len();
                        st.lost += 1;
                    }
                    Some(Item::Switch) => switch = true,
                    None => break,
                }
            }
            if switch {
                st.items.push_front(Item::Switch);
            }
        }
        if was_empty {
            self.ready.notify_one();
        }
    }

    /// Marks a change of source (A+B=A): the packets pushed after it come
    /// from the other source.
    pub(super) fn switch(&self) {
        {
            let mut st = self.lock();
            if st.closed {
                return;
            }
            st.items.push_back(Item::Switch);
        }
        self.ready.notify_one();
    }

    /// The publisher is gone: what is queued is still delivered, then End.
    pub(super) fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_one();
    }

    /// Payload bytes queued now.
    #[cfg(test)]
    pub(super) fn bytes(&self) -> usize {
        self.lock().bytes
    }

    fn take(&self) -> Option<Next> {
        let mut st = self.lock();
        if st.lost > 0 {
            let n = std::mem::take(&mut st.lost);
            metrics::counter!("liverec_subscriber_packets_lost_total").increment(n);
            metrics::counter!("liverec_subscriber_resyncs_total").increment(1);
            return Some(Next::Lost(n));
        }
        match st.items.pop_front() {
            Some(Item::Packet(p)) => {
                st.bytes -= p.frame.data.len();
                return Some(Next::Packet(p));
            }
            Some(Item::Switch) => return Some(Next::Switch),
            None => {}
        }
        st.closed.then_some(Next::End)
    }
}

/// The pre-roll a subscription starts with.
#[derive(Debug)]
pub(super) enum Backlog {
    /// Packets from the in-memory ring.
    Memory(VecDeque<Packet>),
    /// Segments of the disk ring, read as consumed.
    Disk(super::spill::DiskBacklog),
}

impl Backlog {
    fn len(&self) -> usize {
        match self {
            Backlog::Memory(v) => v.len(),
            Backlog::Disk(d) => usize::try_from(d.len()).unwrap_or(usize::MAX),
        }
    }

    pub(super) fn pop(&mut self) -> Option<Next> {
        match self {
            Backlog::Memory(v) => v.pop_front().map(Next::Packet),
            Backlog::Disk(d) => match d.next() {
                Ok(p) => p.map(Next::Packet),
                Err(lost) => {
                    metrics::counter!("liverec_subscriber_packets_lost_total").increment(lost);
                    Some(Next::Lost(lost))
                }
            },
        }
    }
}

/// See the module doc.
#[derive(Debug)]
pub struct Subscription {
    backlog: Backlog,
    /// None when the stream had already ended at subscribe time.
    queue: Option<Arc<Queue>>,
}

impl Subscription {
    pub(super) fn new(backlog: Backlog, queue: Option<Arc<Queue>>) -> Subscription {
        Subscription { backlog, queue }
    }

    /// Number of packets from the pre-roll not yet consumed.
    pub fn backlog_len(&self) -> usize {
        self.backlog.len()
    }

    /// Like [`Subscription::next`] without waiting: None when nothing is
    /// queued right now.
    pub fn try_next(&mut self) -> Option<Next> {
        if let Some(n) = self.backlog.pop() {
            return Some(n);
        }
        match &self.queue {
            Some(q) => q.take(),
            None => Some(Next::End),
        }
    }

    /// The next packet, a loss report, or the end of the stream.
    pub async fn next(&mut self) -> Next {
        if let Some(n) = self.backlog.pop() {
            return n;
        }
        let Some(q) = &self.queue else {
            return Next::End;
        };
        loop {
            if let Some(next) = q.take() {
                return next;
            }
            q.ready.notified().await;
        }
    }

    #[cfg(test)]
    pub(super) fn queue(&self) -> Option<&Arc<Queue>> {
        self.queue.as_ref()
    }
}
