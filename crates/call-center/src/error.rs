//! The crate's errors, each value with exactly one class.

use fleet_core::{Classified, ErrorClass, ServiceError};

use crate::transcript::TranscriptError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The event names a bucket this function was not deployed for.
    #[error("the event is for bucket {got:?}, this function serves {expected:?}")]
    WrongBucket { expected: String, got: String },
    /// The calls table holds an item the code cannot read.
    #[error("call {call_id}: stored item unreadable: {detail}")]
    CorruptRecord { call_id: String, detail: String },
    /// Transcribe's output could not be read.
    #[error("transcript {key}: {error}")]
    Transcript { key: String, error: TranscriptError },
    /// Comprehend failed some documents twice.
    #[error("Comprehend could not score {failed} chunk(s): {code}: {message}")]
    Scoring {
        failed: usize,
        code: String,
        message: String,
    },
    /// Transcribe said ConflictException, then that no such job exists.
    #[error("job {0}: Transcribe reported a name conflict but has no such job")]
    JobVanished(String),
}

impl Classified for CallError {
    fn class(&self) -> ErrorClass {
        match self {
            CallError::Service(e) => e.class,
            CallError::WrongBucket { .. } => ErrorClass::InvalidEvent,
            CallError::CorruptRecord { .. } | CallError::Transcript { .. } => {
                ErrorClass::CorruptState
            }
            // Comprehend's per-document codes: INTERNAL_SERVER_ERROR is worth a retry; the others
            // (TEXT_SIZE_LIMIT_EXCEEDED, UNSUPPORTED_LANGUAGE, INVALID_REQUEST) are bugs here.
            CallError::Scoring { code, .. } => match code.as_str() {
                "INTERNAL_SERVER_ERROR" => ErrorClass::Unavailable,
                _ => ErrorClass::Internal,
            },
            CallError::JobVanished(_) => ErrorClass::Internal,
        }
    }
}

impl From<CallError> for fleet_core::HandlerError {
    fn from(e: CallError) -> Self {
        fleet_core::HandlerError::from_error(&e)
    }
}
