//! A subscriber's view of one live stream: the pre-roll backlog it started
//! from, then live packets. Reports losses (a subscriber that fell more than
//! the queue behind) so the caller can resynchronize at a keyframe.

use std::collections::VecDeque;

use tokio::sync::broadcast::{
    self,
    error::{RecvError, TryRecvError},
};

use super::Packet;

/// What [`Subscription::next`] yields.
#[derive(Debug)]
pub enum Next {
    /// The next packet.
    Packet(Packet),
    /// This many packets were lost; continue from the next keyframe.
    Lost(u64),
    /// The publisher ended the stream.
    End,
}

/// See the module doc.
#[derive(Debug)]
pub struct Subscription {
    backlog: VecDeque<Packet>,
    rx: Option<broadcast::Receiver<Packet>>,
}

impl Subscription {
    pub(super) fn new(
        backlog: Vec<Packet>,
        rx: Option<broadcast::Receiver<Packet>>,
    ) -> Subscription {
        Subscription {
            backlog: backlog.into(),
            rx,
        }
    }

    /// Number of packets from the pre-roll not yet consumed.
    pub fn backlog_len(&self) -> usize {
        self.backlog.len()
    }

    /// Like [`Subscription::next`] without waiting: None when nothing is
    /// queued right now.
    pub fn try_next(&mut self) -> Option<Next> {
        if let Some(p) = self.backlog.pop_front() {
            return Some(Next::Packet(p));
        }
        let Some(rx) = &mut self.rx else {
            return Some(Next::End);
        };
        match rx.try_recv() {
            Ok(p) => Some(Next::Packet(p)),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Lagged(n)) => {
                metrics::counter!("liverec_subscriber_packets_lost_total").increment(n);
                Some(Next::Lost(n))
            }
            Err(TryRecvError::Closed) => Some(Next::End),
        }
    }

    /// The next packet, a loss report, or the end of the stream.
    pub async fn next(&mut self) -> Next {
        if let Some(p) = self.backlog.pop_front() {
            return Next::Packet(p);
        }
        let Some(rx) = &mut self.rx else {
            return Next::End;
        };
        match rx.recv().await {
            Ok(p) => Next::Packet(p),
            Err(RecvError::Lagged(n)) => {
                metrics::counter!("liverec_subscriber_packets_lost_total").increment(n);
                Next::Lost(n)
            }
            Err(RecvError::Closed) => Next::End,
        }
    }
}
