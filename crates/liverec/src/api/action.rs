//! The actions of the API ([`Action`]), parsed once from the request's
//! action name ([`ActionName::parse`]). The endpoint dispatches on it and
//! the guard takes the rate-limit class from it ([`Action::rate_class`]);
//! nothing else matches action names as strings.

use super::error::Error;

macro_rules! actions {
    ($( $(#[$meta:meta])* $variant:ident, )*) => {
        /// An action liverec implements.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub(crate) enum Action {
            $( $(#[$meta])* $variant, )*
        }

        impl Action {
            /// Every action.
            #[cfg(test)]
            pub(crate) const ALL: &'static [Action] = &[$( Action::$variant, )*];

            /// The wire name, e.g. `"CreateLiveRecord"`.
            #[cfg(test)]
            pub(crate) fn name(self) -> &'static str {
                match self {
                    $( Action::$variant => stringify!($variant), )*
                }
            }

            fn from_name(name: &str) -> Option<Action> {
                match name {
                    $( stringify!($variant) => Some(Action::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

actions! {
    /// Legacy task: create (SPEC §3.1).
    CreateLiveRecord,
    /// Legacy task: stop.
    StopLiveRecord,
    /// Legacy task: delete.
    DeleteLiveRecord,
    /// Files: list.
    DescribeRecordFiles,
    /// Files: delete.
    DeleteRecordFiles,
    /// New task: create (SPEC §3.2).
    CreateRecordTask,
    /// New task: stop.
    StopRecordTask,
    /// New task: delete.
    DeleteRecordTask,
    /// New task: list.
    DescribeRecordTask,
    /// Template: create.
    CreateLiveRecordTemplate,
    /// Template: modify.
    ModifyLiveRecordTemplate,
    /// Template: delete.
    DeleteLiveRecordTemplate,
    /// Template: describe one.
    DescribeLiveRecordTemplate,
    /// Template: list.
    DescribeLiveRecordTemplates,
    /// Rule: create.
    CreateLiveRecordRule,
    /// Rule: delete.
    DeleteLiveRecordRule,
    /// Rule: list.
    DescribeLiveRecordRules,
    /// Streams: live list (SPEC §3.3).
    DescribeLiveStreamOnlineList,
    /// Streams: state of one.
    DescribeLiveStreamState,
    /// Streams: disconnect the publisher.
    DropLiveStream,
    /// Streams: publish sessions.
    DescribeLiveStreamEventList,
    /// Streams: forbid publishing.
    ForbidLiveStream,
    /// Streams: lift a forbid.
    ResumeLiveStream,
    /// Push authentication: read.
    DescribeLivePushAuthKey,
    /// Push authentication: change.
    ModifyLivePushAuthKey,
    /// Push domains: claim one (SPEC §2).
    AddLiveDomain,
    /// Push domains: list the caller's.
    DescribeLiveDomains,
    /// Push domains: describe one.
    DescribeLiveDomain,
    /// Push domains: release one.
    DeleteLiveDomain,
    /// Callback template: create (reference §3.1).
    CreateLiveCallbackTemplate,
    /// Callback template: modify.
    ModifyLiveCallbackTemplate,
    /// Callback template: delete.
    DeleteLiveCallbackTemplate,
    /// Callback template: describe one.
    DescribeLiveCallbackTemplate,
    /// Callback template: list.
    DescribeLiveCallbackTemplates,
    /// Callback rule: create.
    CreateLiveCallbackRule,
    /// Callback rule: delete.
    DeleteLiveCallbackRule,
    /// Callback rule: list.
    DescribeLiveCallbackRules,
    /// Callback outbox: list deliveries (liverec's own, SPEC §5).
    DescribeCallbackDeliveries,
    /// A+B=C mixing: start or update a session (SPEC §6).
    CreateCommonMixStream,
    /// A+B=C mixing: end a session.
    CancelCommonMixStream,
}

/// Actions of Tencent's live API that liverec does not implement yet: they
/// get `InvalidAction` with a message saying so, instead of a silent no-op.
const NOT_YET: &[&str] = &[];

/// The rate-limit class of an action (`[rates]` of the configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RateClass {
    /// CreateLiveRecord.
    Create,
    /// StopLiveRecord and DeleteLiveRecord.
    StopDelete,
    /// Everything else, unknown actions included.
    Other,
}

impl Action {
    /// The rate-limit class.
    pub(crate) fn rate_class(self) -> RateClass {
        match self {
            Action::CreateLiveRecord => RateClass::Create,
            Action::StopLiveRecord | Action::DeleteLiveRecord => RateClass::StopDelete,
            Action::DescribeRecordFiles
            | Action::DeleteRecordFiles
            | Action::CreateRecordTask
            | Action::StopRecordTask
            | Action::DeleteRecordTask
            | Action::DescribeRecordTask
            | Action::CreateLiveRecordTemplate
            | Action::ModifyLiveRecordTemplate
            | Action::DeleteLiveRecordTemplate
            | Action::DescribeLiveRecordTemplate
            | Action::DescribeLiveRecordTemplates
            | Action::CreateLiveRecordRule
            | Action::DeleteLiveRecordRule
            | Action::DescribeLiveRecordRules
            | Action::DescribeLiveStreamOnlineList
            | Action::DescribeLiveStreamState
            | Action::DropLiveStream
            | Action::DescribeLiveStreamEventList
            | Action::ForbidLiveStream
            | Action::ResumeLiveStream
            | Action::DescribeLivePushAuthKey
            | Action::ModifyLivePushAuthKey
            | Action::AddLiveDomain
            | Action::DescribeLiveDomains
            | Action::DescribeLiveDomain
            | Action::DeleteLiveDomain
            | Action::CreateLiveCallbackTemplate
            | Action::ModifyLiveCallbackTemplate
            | Action::DeleteLiveCallbackTemplate
            | Action::DescribeLiveCallbackTemplate
            | Action::DescribeLiveCallbackTemplates
            | Action::CreateLiveCallbackRule
            | Action::DeleteLiveCallbackRule
            | Action::DescribeLiveCallbackRules
            | Action::DescribeCallbackDeliveries
            | Action::CreateCommonMixStream
            | Action::CancelCommonMixStream => RateClass::Other,
        }
    }
}

/// The action name of a request, parsed once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ActionName {
    /// An action liverec implements.
    Known(Action),
    /// A Tencent action liverec does not implement yet.
    NotYet(String),
    /// No such action.
    Unknown(String),
}

impl ActionName {
    /// Parses the `Action` parameter (case-sensitive, as Tencent's).
    pub(crate) fn parse(name: &str) -> ActionName {
        match Action::from_name(name) {
            Some(a) => ActionName::Known(a),
            None if NOT_YET.contains(&name) => ActionName::NotYet(name.to_string()),
            None => ActionName::Unknown(name.to_string()),
        }
    }

    /// The rate-limit class (unknown actions count as `Other`).
    pub(crate) fn rate_class(&self) -> RateClass {
        match self {
            ActionName::Known(a) => a.rate_class(),
            ActionName::NotYet(_) | ActionName::Unknown(_) => RateClass::Other,
        }
    }

    /// The implemented action, or the refusal of the name.
    pub(crate) fn known(self) -> Result<Action, Error> {
        match self {
            ActionName::Known(a) => Ok(a),
            ActionName::NotYet(n) => Err(Error::ActionNotYet(n)),
            ActionName::Unknown(n) => Err(Error::NoSuchAction(n)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(Action::ALL.len(), 40);
        for a in Action::ALL {
            assert_eq!(ActionName::parse(a.name()), ActionName::Known(*a));
        }
        assert_eq!(
            ActionName::parse("createliverecord"),
            ActionName::Unknown("createliverecord".into())
        );
        assert_eq!(
            ActionName::parse("CreateCommonMixStream"),
            ActionName::Known(Action::CreateCommonMixStream)
        );
    }

    #[test]
    fn rate_classes() {
        assert_eq!(Action::CreateLiveRecord.rate_class(), RateClass::Create);
        assert_eq!(Action::StopLiveRecord.rate_class(), RateClass::StopDelete);
        assert_eq!(Action::DeleteLiveRecord.rate_class(), RateClass::StopDelete);
        assert_eq!(Action::CreateRecordTask.rate_class(), RateClass::Other);
        assert_eq!(ActionName::parse("Nope").rate_class(), RateClass::Other);
        assert_eq!(
            ActionName::parse("Nope").known(),
            Err(Error::NoSuchAction("Nope".into()))
        );
        assert_eq!(
            ActionName::parse("CancelCommonMixStream").known(),
            Ok(Action::CancelCommonMixStream)
        );
    }
}
