//! The feed of one mix session: one tokio task per input that is live,
//! forwarding its hub subscription into the media thread's bounded queue
//! (full: the packet is dropped, counted, and video resumes at a
//! keyframe), subscribing again when an input returns. The input an A+B=A
//! session replaces is read from the overlay's hidden source, once.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc::{Sender, SyncSender, TrySendError};

use media::Track;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{Control, find_input};
use crate::hub::{Hub, HubEvent, LiveStream, Next, Packet};

/// Where a session's inputs come from.
pub(super) struct Inputs {
    pub(super) hub: Arc<Hub>,
    pub(super) owner: String,
    /// A+B=A: the replaced input's name and the publisher's own media.
    pub(super) replaced: Option<(String, Arc<LiveStream>)>,
}

impl Inputs {
    /// The stream to read input `name` from, if it is live.
    fn find(&self, name: &str) -> Option<Arc<LiveStream>> {
        match &self.replaced {
            Some((n, source)) if n == name => Some(source.clone()),
            _ => find_input(&self.hub, &self.owner, name),
        }
    }

    /// Whether `name` is the replaced input, read once: when its
    /// publisher leaves the session ends rather than waiting for it.
    fn is_replaced(&self, name: &str) -> bool {
        self.replaced.as_ref().is_some_and(|(n, _)| n == name)
    }
}

/// Keeps one forwarding task per named input that is live, subscribing
/// again when an input returns.
pub(super) async fn feed(
    inputs: Inputs,
    mut names: watch::Receiver<Vec<String>>,
    data: SyncSender<(Arc<str>, Packet)>,
    control: Sender<Control>,
    cancel: CancellationToken,
) {
    let mut events = inputs.hub.events();
    let mut tasks: HashMap<String, JoinHandle<()>> = HashMap::new();
    let mut replaced_read = false;
    loop {
        let wanted = names.borrow_and_update().clone();
        tasks.retain(|name, task| {
            let keep = wanted.contains(name) && !task.is_finished();
            if !keep {
                task.abort();
            }
            keep
        });
        for name in &wanted {
            if tasks.contains_key(name) || (replaced_read && inputs.is_replaced(name)) {
                continue;
            }
            if let Some(stream) = inputs.find(name) {
                replaced_read |= inputs.is_replaced(name);
                let task = tokio::spawn(forward(
                    Arc::from(name.as_str()),
                    stream,
                    data.clone(),
                    control.clone(),
                ));
                tasks.insert(name.clone(), task);
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => break,
            changed = names.changed() => if changed.is_err() { break },
            ev = events.recv() => match ev {
                Ok(HubEvent::Live(_) | HubEvent::Ended(_))
                | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            },
        }
    }
    for task in tasks.values() {
        task.abort();
    }
}

/// Forwards one input's packets to the media thread. After a loss (its
/// hub queue overflowed, or the media thread's queue was full) video
/// resumes at the next keyframe.
async fn forward(
    name: Arc<str>,
    stream: Arc<LiveStream>,
    data: SyncSender<(Arc<str>, Packet)>,
    control: Sender<Control>,
) {
    let mut sub = stream.subscribe(None);
    let mut need_key = true;
    loop {
        match sub.next().await {
            Next::Packet(p) => {
                if p.frame.track == Track::Video {
                    if need_key && !p.frame.keyframe {
                        continue;
                    }
                    need_key = false;
                }
                match data.try_send((name.clone(), p)) {
                    Ok(()) => {}
                    Err(TrySendError::Full(_)) => {
                        metrics::counter!("liverec_mix_input_packets_dropped_total").increment(1);
                        need_key = true;
                    }
                    Err(TrySendError::Disconnected(_)) => return,
                }
            }
            Next::Lost(n) => {
                metrics::counter!("liverec_mix_input_packets_dropped_total").increment(n);
                need_key = true;
            }
            // Another mix started or stopped replacing this input.
            Next::Switch => need_key = true,
            Next::End => {
                let _ = control.send(Control::Gone(name.to_string()));
                return;
            }
        }
    }
}
