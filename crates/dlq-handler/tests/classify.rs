//! The classifier over real messages: the seed's three examples, what lambda_runtime and Lambda
//! report for panics, timeouts, out-of-memory kills and crashes, init and handler errors, the
//! fleet's own error classes, and destination conditions.

use dlq_handler::classify::{classify, Evidence, FailureClass, ReplayAdvice};
use fleet_core::ErrorClass;
use proptest::prelude::*;
use FailureClass::*;

fn dlq(message: &str) -> FailureClass {
    classify(&Evidence {
        message,
        error_code: Some("200"),
        ..Evidence::default()
    })
}

fn destination(error_type: &str, message: &str) -> FailureClass {
    classify(&Evidence {
        error_type: Some(error_type),
        message,
        condition: Some("RetriesExhausted"),
        error_code: Some("200"),
    })
}

#[test]
fn dead_letter_messages_by_their_text() {
    let table: &[(&str, FailureClass)] = &[
        // The seed's three.
        ("Task timed out after 300.00 seconds", Timeout),
        ("Process exited before completing request", Crash),
        ("Cannot find module '/var/task/index'", Misconfiguration),
        // As Lambda writes them into ErrorMessage.
        ("2026-11-23T09:00:01.203Z 7a1c5e2f-3b4d-4e6f-8a9b-0c1d2e3f4a51 Task timed out after 30.02 seconds", Timeout),
        ("RequestId: 7a1c5e2f Error: Runtime exited with error: signal: killed", OutOfMemory),
        ("RequestId: 7a1c5e2f Error: Runtime exited with error: exit status 137", OutOfMemory),
        ("Runtime.OutOfMemory: Runtime exited with error: signal: killed", OutOfMemory),
        ("RequestId: 7a1c5e2f Error: Runtime exited without providing a reason", Crash),
        ("RequestId: 7a1c5e2f Error: Runtime exited with error: exit status 1", Crash),
        ("RequestId: 7a1c5e2f Error: Runtime exited with error: signal: aborted (core dumped)", Crash),
        ("Lambda panicked: called `Option::unwrap()` on a `None` value", Panic),
        ("Lambda panicked", Panic),
        ("Runtime.ImportModuleError: Unable to import module 'lambda_function': No module named 'lambda_function'", Misconfiguration),
        ("Runtime.HandlerNotFound: index.handler is undefined or not exported", Misconfiguration),
        ("Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]", Misconfiguration),
        ("missing environment variable STATE_TABLE", Misconfiguration),
        ("JavaScript heap out of memory", OutOfMemory),
        ("DynamoDB: ResourceNotFoundException: Requested resource not found", MissingResource),
        ("EC2: RequestLimitExceeded: Request limit exceeded.", Throttled),
        ("User: arn:aws:sts::123456789012:assumed-role/r/f is not authorized to perform: ec2:StopInstances", AccessDenied),
        ("", Unknown),
        ("something unexpected happened", Unknown),
    ];
    for (message, class) in table {
        assert_eq!(dlq(message), *class, "{message:?}");
    }
}

#[test]
fn the_invoke_status_decides_when_the_text_does_not() {
    let code = |code: &str| {
        classify(&Evidence {
            message: "Rate Exceeded.",
            error_code: Some(code),
            ..Evidence::default()
        })
    };
    assert_eq!(code("429"), Throttled);
    let code = |code: &str| {
        classify(&Evidence {
            message: "EC2ThrottledException",
            error_code: Some(code),
            ..Evidence::default()
        })
    };
    assert_eq!(code("502"), DependencyFailure);
    assert_eq!(code("200"), Unknown);
}

#[test]
fn destination_records_by_their_error_type() {
    let table: &[(&str, &str, FailureClass)] = &[
        (
            "Sandbox.Timedout",
            "RequestId: r Error: Task timed out after 120.00 seconds",
            Timeout,
        ),
        (
            "Runtime.OutOfMemory",
            "RequestId: r Error: Runtime exited with error: signal: killed",
            OutOfMemory,
        ),
        (
            "Runtime.ExitError",
            "RequestId: r Error: Runtime exited with error: signal: killed",
            OutOfMemory,
        ),
        (
            "Runtime.ExitError",
            "RequestId: r Error: Runtime exited with error: exit status 101",
            Crash,
        ),
        (
            "Runtime.InvalidEntrypoint",
            "RequestId: r Error: Couldn't find valid bootstrap(s)",
            Misconfiguration,
        ),
        (
            "Runtime.Unknown",
            "Unknown application error occurred",
            Unknown,
        ),
        // lambda_runtime's panic diagnostic: the payload's type name.
        (
            "&alloc::boxed::Box<dyn core::any::Any + core::marker::Send>",
            "Lambda panicked: index out of bounds",
            Panic,
        ),
        // The fleet's classes, including an init failure reported through /init/error.
        (
            "InvalidConfig",
            "missing environment variable STATE_TABLE",
            Misconfiguration,
        ),
        (
            "InvalidEvent",
            "not an EventBridge event: time: premature end of input",
            BadInput,
        ),
        (
            "NotFound",
            "DynamoDB: ResourceNotFoundException: Requested resource not found",
            MissingResource,
        ),
        (
            "AccessDenied",
            "EC2: UnauthorizedOperation: You are not authorized",
            AccessDenied,
        ),
        (
            "Throttled",
            "EC2: RequestLimitExceeded: Request limit exceeded.",
            Throttled,
        ),
        (
            "Unavailable",
            "DynamoDB: HTTP 500 without an AWS error",
            DependencyFailure,
        ),
        (
            "ActionsFailed",
            "2 change(s) failed transiently",
            DependencyFailure,
        ),
        (
            "Conflict",
            "DynamoDB: ConditionalCheckFailedException",
            DependencyFailure,
        ),
        (
            "DeadlineReached",
            "stopped 10 s before the deadline",
            Timeout,
        ),
        ("Rejected", "the approval was rejected", Rejected),
        (
            "CorruptState",
            "state item ec2-scheduler: LastSuccessfulRun is not a time",
            CorruptState,
        ),
        (
            "Internal",
            "serialising the answer: key must be a string",
            Bug,
        ),
        // A foreign errorType the classifier does not know: the message decides.
        ("Error", "Task timed out after 3.00 seconds", Timeout),
        (
            "TypeError",
            "Cannot read properties of undefined (reading 'x')",
            Unknown,
        ),
    ];
    for (error_type, message, class) in table {
        assert_eq!(
            destination(error_type, message),
            *class,
            "{error_type} / {message}"
        );
    }
    for class in ErrorClass::ALL {
        assert_eq!(
            destination(class.as_str(), "whatever the message says: Task timed out"),
            FailureClass::from_fleet(class),
            "the fleet's errorType wins over the message"
        );
    }
}

#[test]
fn an_expired_event_is_too_old_whatever_else_it_says() {
    let class = classify(&Evidence {
        error_type: Some("Throttled"),
        message: "",
        condition: Some("EventAgeExceeded"),
        error_code: None,
    });
    assert_eq!(class, TooOld);
    assert_eq!(TooOld.advice().replay, ReplayAdvice::Safe);
}

#[test]
fn every_class_has_advice_and_the_refused_ones_say_how_to_force() {
    let mut safe = Vec::new();
    for class in FailureClass::ALL {
        let advice = class.advice();
        assert!(advice.text.len() > 40, "{class}: {}", advice.text);
        match advice.replay {
            ReplayAdvice::Safe => safe.push(class),
            ReplayAdvice::FixFirst => assert!(
                advice.text.contains("--force"),
                "{class}: a refused class says how to replay anyway"
            ),
            ReplayAdvice::Impossible => assert_eq!(class, Unparseable),
        }
    }
    assert_eq!(safe, [Timeout, Throttled, DependencyFailure, TooOld]);
    assert_eq!(Misconfiguration.advice().replay, ReplayAdvice::FixFirst);
    assert_eq!(BadInput.advice().replay, ReplayAdvice::FixFirst);
}

proptest! {
    #[test]
    fn any_text_gets_exactly_one_class(
        error_type in proptest::option::of(".{0,40}"),
        message in ".{0,300}",
        condition in proptest::option::of("RetriesExhausted|EventAgeExceeded|[A-Za-z]{0,10}"),
        code in proptest::option::of("[0-9]{0,4}"),
    ) {
        let class = classify(&Evidence {
            error_type: error_type.as_deref(),
            message: &message,
            condition: condition.as_deref(),
            error_code: code.as_deref(),
        });
        prop_assert!(FailureClass::ALL.contains(&class));
        prop_assert_ne!(class, Unparseable, "only the normaliser says unparseable");
    }
}
