//! What became of one planned change, as reports show it.

use serde::Serialize;

use crate::batch::Applied;
use crate::model::{Ec2Error, Ec2ErrorKind};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Nothing was due, or nothing applied.
    Unchanged,
    /// Dry run: this is what would have been done.
    Planned,
    Done,
    /// Termination or stop protection refused the change: reported, not fatal.
    Protected {
        message: String,
    },
    Failed {
        code: String,
        message: String,
        transient: bool,
    },
    /// Over the per-run limit on destructive changes: left for an operator.
    Held,
    /// The run stopped before the Lambda deadline before reaching this one.
    NotAttempted,
}

impl Outcome {
    pub fn failed(e: &Ec2Error) -> Self {
        match e.kind {
            Ec2ErrorKind::Protected => Self::Protected {
                message: e.message.clone(),
            },
            kind => Self::Failed {
                code: e.code.clone(),
                message: e.message.clone(),
                transient: kind.is_transient(),
            },
        }
    }

    pub fn is_transient_failure(&self) -> bool {
        matches!(
            self,
            Self::Failed {
                transient: true,
                ..
            }
        )
    }

    /// The outcome as a report line says it; `cap` names the per-run limit that holds changes
    /// (`MaxTerminationsPerRun`, `MaxEnforcementsPerRun`).
    pub fn describe(&self, cap: &str) -> String {
        match self {
            Self::Unchanged => "nothing to do".to_owned(),
            Self::Planned => "planned".to_owned(),
            Self::Done => "done".to_owned(),
            Self::Protected { message } => format!("protected: {message}"),
            Self::Failed { code, message, .. } => format!("FAILED {code}: {message}"),
            Self::Held => format!("held: {cap} reached"),
            Self::NotAttempted => "not attempted (deadline)".to_owned(),
        }
    }

    /// The outcome's name in logs: `done`, `failed`, ...
    pub fn name(&self) -> &'static str {
        match self {
            Self::Unchanged => "unchanged",
            Self::Planned => "planned",
            Self::Done => "done",
            Self::Protected { .. } => "protected",
            Self::Failed { .. } => "failed",
            Self::Held => "held",
            Self::NotAttempted => "not_attempted",
        }
    }
}

impl From<Applied> for Outcome {
    fn from(applied: Applied) -> Self {
        match applied {
            Applied::Done => Self::Done,
            Applied::Failed(e) => Self::failed(&e),
            Applied::NotAttempted => Self::NotAttempted,
        }
    }
}
