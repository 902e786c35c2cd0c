//! Faults (issue 18): the scheduled run with EC2's listing or its starts and stops throttled
//! (then answered, or throughout), answering 503 on every attempt, or not answering at all, and
//! the same for each call to the state table. The SDK's retry absorbs passing throttling. A
//! listing or a state-table read that fails fails the invocation (classified) before anything
//! changes; a start or stop that fails is reported as a transient failure and kept as a pending
//! action for the next run; a state-table write that fails after the changes fails the
//! invocation, and Lambda's retry of the event does not change anything twice.

use aws_sdk_dynamodb::operation::batch_get_item::{BatchGetItemError, BatchGetItemOutput};
use aws_sdk_dynamodb::operation::batch_write_item::{BatchWriteItemError, BatchWriteItemOutput};
use aws_sdk_dynamodb::operation::get_item::{GetItemError, GetItemOutput};
use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemOutput};
use aws_sdk_ec2::error::ErrorMetadata;
use aws_sdk_ec2::operation::describe_instances::{DescribeInstancesError, DescribeInstancesOutput};
use aws_sdk_ec2::operation::start_instances::{StartInstancesError, StartInstancesOutput};
use aws_sdk_ec2::operation::stop_instances::{StopInstancesError, StopInstancesOutput};
use aws_sdk_ec2::types::{Instance, InstanceStateName, Reservation, Tag};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use chrono::{DateTime, Utc};
use ec2_scheduler::aws::{AwsEc2, DynamoState};
use ec2_scheduler::memory::{FakeInstance, InMemoryEc2, MemoryState};
use ec2_scheduler::ports::{Ec2Port, InstanceNote, StateChange, StateStore};
use ec2_scheduler::run::Outcome;
use ec2_scheduler::{App, InstanceState, RunReport, Scheduler, Settings};
use fleet_core::ledger::MemoryLedger;
use fleet_core::{EventHandler, FixedClock, HandlerError, RecordingNotifier, ServiceError};
use fleet_ec2::SplitEc2;
use fleet_testkit::faults::{Fault, Injected, ATTEMPTS};
use fleet_testkit::{inject, load_event};
use lambda_runtime::{Context, LambdaEvent};

/// Both instances keep office hours: started by the 08:00 run, stopped by the 19:20 one.
const OFFICE_HOURS: &str = "08:00-19:15";
const FLEET: [&str; 2] = ["i-web", "i-db"];

/// The sample event whose run asks for `change`: the 08:00 run starts, the 19:20 run stops.
fn event(change: StateChange) -> &'static str {
    match change {
        StateChange::Stop => "ec2-scheduler/02-monday-1920.json",
        _ => "ec2-scheduler/01-monday-0800.json",
    }
}

/// The function's clock at that event's time.
fn clock(change: StateChange) -> FixedClock {
    let at = match change {
        StateChange::Stop => "2026-11-23T19:20:00Z",
        _ => "2026-11-23T08:00:00Z",
    };
    FixedClock::at(at.parse::<DateTime<Utc>>().unwrap())
}

fn lambda_event(change: StateChange) -> LambdaEvent<serde_json::Value> {
    LambdaEvent::new(load_event(event(change)), Context::default())
}

fn limit_exceeded() -> ErrorMetadata {
    ErrorMetadata::builder()
        .code("RequestLimitExceeded")
        .message("Request limit exceeded.")
        .build()
}

fn throughput_exceeded() -> aws_sdk_dynamodb::error::ErrorMetadata {
    aws_sdk_dynamodb::error::ErrorMetadata::builder()
        .code("ProvisionedThroughputExceededException")
        .message("slow down")
        .build()
}

/// The fleet as DescribeInstances lists it before `change`: stopped before a start, running
/// before a stop.
fn listing(change: StateChange) -> DescribeInstancesOutput {
    let state = match change {
        StateChange::Stop => InstanceStateName::Running,
        _ => InstanceStateName::Stopped,
    };
    let instances = FLEET.map(|id| {
        Instance::builder()
            .instance_id(id)
            .state(
                aws_sdk_ec2::types::InstanceState::builder()
                    .name(state.clone())
                    .build(),
            )
            .tags(Tag::builder().key("Schedule").value(OFFICE_HOURS).build())
            .build()
    });
    DescribeInstancesOutput::builder()
        .reservations(
            Reservation::builder()
                .set_instances(Some(instances.to_vec()))
                .build(),
        )
        .build()
}

type Ec2App<E> = App<E, MemoryState, FixedClock, RecordingNotifier>;

fn ec2_app<E: Ec2Port>(ec2: E, change: StateChange) -> Ec2App<E> {
    App {
        scheduler: Scheduler {
            ec2,
            state: MemoryState::default(),
            clock: clock(change),
            settings: Settings::default(),
        },
        notifier: None,
    }
}

/// What one run made of `change`: instances changed, left pending, and the attempts the faulty
/// call saw.
#[derive(Debug, PartialEq, Eq)]
struct Changed {
    done: usize,
    pending: usize,
    attempts: usize,
}

/// The run of the event that asks for `change` (both instances), with `fault` on that call.
async fn change_with(change: StateChange, fault: Fault) -> Changed {
    let writes = match change {
        StateChange::Stop => inject!(
            aws_sdk_ec2,
            aws_sdk_ec2::Client::stop_instances,
            fault,
            || StopInstancesError::generic(limit_exceeded()),
            || StopInstancesOutput::builder().build()
        ),
        _ => inject!(
            aws_sdk_ec2,
            aws_sdk_ec2::Client::start_instances,
            fault,
            || StartInstancesError::generic(limit_exceeded()),
            || StartInstancesOutput::builder().build()
        ),
    };
    let describe =
        mock!(aws_sdk_ec2::Client::describe_instances).then_output(move || listing(change));
    let ec2 = SplitEc2 {
        listing: AwsEc2::new(mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&describe])),
        writes: AwsEc2::new(writes.client.clone()),
    };
    let app = ec2_app(ec2, change);
    let report = app
        .handle(lambda_event(change))
        .await
        .expect("a failed change is reported, not an error");
    assert_eq!(report.instances_seen, FLEET.len());
    // Nothing silently dropped: whatever was not done failed transiently and stays pending,
    // remembered for the next run.
    for r in &report.actions {
        if r.outcome != Outcome::Done {
            assert!(
                r.outcome.is_transient_failure() && r.pending.is_some(),
                "{r:?}"
            );
        }
    }
    let remembered = app
        .scheduler
        .state
        .all_notes()
        .values()
        .filter(|n| n.pending.is_some())
        .count();
    assert_eq!(remembered, report.counts.pending);
    Changed {
        done: report.counts.start + report.counts.stop,
        pending: report.counts.pending,
        attempts: writes.attempts(),
    }
}

/// Retried by the SDK as one batch call: never once per instance.
const DONE: Changed = Changed {
    done: 2,
    pending: 0,
    attempts: ATTEMPTS,
};

/// Throttling and 5xx are not retried per instance (that would multiply the load).
const PENDING: Changed = Changed {
    done: 0,
    pending: 2,
    attempts: ATTEMPTS,
};

#[tokio::test]
async fn start_throttled_then_answered_is_retried_and_both_start() {
    assert_eq!(
        change_with(StateChange::Start, Fault::ThrottledThenOk).await,
        DONE
    );
}

#[tokio::test]
async fn start_throttled_throughout_is_a_transient_failure_left_pending() {
    assert_eq!(
        change_with(StateChange::Start, Fault::Throttled).await,
        PENDING
    );
}

#[tokio::test]
async fn start_5xx_is_a_transient_failure_left_pending() {
    assert_eq!(
        change_with(StateChange::Start, Fault::ServerError).await,
        PENDING
    );
}

#[tokio::test]
async fn start_timeout_is_a_transient_failure_left_pending() {
    assert_eq!(
        change_with(StateChange::Start, Fault::Timeout).await,
        PENDING
    );
}

#[tokio::test]
async fn stop_throttled_then_answered_is_retried_and_both_stop() {
    assert_eq!(
        change_with(StateChange::Stop, Fault::ThrottledThenOk).await,
        DONE
    );
}

#[tokio::test]
async fn stop_throttled_throughout_is_a_transient_failure_left_pending() {
    assert_eq!(
        change_with(StateChange::Stop, Fault::Throttled).await,
        PENDING
    );
}

#[tokio::test]
async fn stop_5xx_is_a_transient_failure_left_pending() {
    assert_eq!(
        change_with(StateChange::Stop, Fault::ServerError).await,
        PENDING
    );
}

#[tokio::test]
async fn stop_timeout_is_a_transient_failure_left_pending() {
    assert_eq!(
        change_with(StateChange::Stop, Fault::Timeout).await,
        PENDING
    );
}

/// EC2 fails a whole call for one instance in the wrong state: the batch is tried again one
/// instance at a time, so the other starts (once) and the refused one is reported as failed.
#[tokio::test]
async fn a_start_refused_for_one_instance_starts_the_other_once_and_reports_the_refusal() {
    let refused = || {
        StartInstancesError::generic(
            ErrorMetadata::builder()
                .code("IncorrectInstanceState")
                .message("The instance 'i-db' is not in a state from which it can be started.")
                .build(),
        )
    };
    let batch = mock!(aws_sdk_ec2::Client::start_instances)
        .match_requests(|r| r.instance_ids().len() == 2)
        .then_error(refused);
    let web = mock!(aws_sdk_ec2::Client::start_instances)
        .match_requests(|r| r.instance_ids() == ["i-web"])
        .then_output(|| StartInstancesOutput::builder().build());
    let db = mock!(aws_sdk_ec2::Client::start_instances)
        .match_requests(|r| r.instance_ids() == ["i-db"])
        .then_error(refused);
    let describe =
        mock!(aws_sdk_ec2::Client::describe_instances).then_output(|| listing(StateChange::Start));
    let ec2 = SplitEc2 {
        listing: AwsEc2::new(mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&describe])),
        writes: AwsEc2::new(mock_client!(
            aws_sdk_ec2,
            RuleMode::MatchAny,
            [&batch, &web, &db]
        )),
    };
    let app = ec2_app(ec2, StateChange::Start);
    let report = app.handle(lambda_event(StateChange::Start)).await.unwrap();
    assert_eq!(
        (batch.num_calls(), web.num_calls(), db.num_calls()),
        (1, 1, 1)
    );
    assert_eq!((report.counts.start, report.counts.failed), (1, 1));
    let db = report
        .actions
        .iter()
        .find(|r| r.instance_id == "i-db")
        .unwrap();
    assert!(
        matches!(&db.outcome, Outcome::Failed { code, transient: false, .. } if code == "IncorrectInstanceState"),
        "{db:?}"
    );
}

/// The run of the 08:00 event with `fault` on DescribeInstances: the instances started (or the
/// invocation's error type), the attempts the listing saw, and the starts EC2 received.
async fn list_with(fault: Fault) -> (Result<usize, &'static str>, usize, usize) {
    let listing = inject!(
        aws_sdk_ec2,
        aws_sdk_ec2::Client::describe_instances,
        fault,
        || DescribeInstancesError::generic(limit_exceeded()),
        || listing(StateChange::Start)
    );
    let start = mock!(aws_sdk_ec2::Client::start_instances)
        .then_output(|| StartInstancesOutput::builder().build());
    let ec2 = SplitEc2 {
        listing: AwsEc2::new(listing.client.clone()),
        writes: AwsEc2::new(mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&start])),
    };
    let app = ec2_app(ec2, StateChange::Start);
    let answer = app.handle(lambda_event(StateChange::Start)).await;
    if answer.is_err() {
        // The window did not move: Lambda's retry covers it again.
        assert_eq!(app.scheduler.state.get(), None);
    }
    (
        answer
            .map(|report| report.counts.start)
            .map_err(|e| e.error_type()),
        listing.attempts(),
        start.num_calls(),
    )
}

#[tokio::test]
async fn listing_throttled_then_answered_is_retried_and_the_run_starts_both() {
    assert_eq!(
        list_with(Fault::ThrottledThenOk).await,
        (Ok(2), ATTEMPTS, 1)
    );
}

#[tokio::test]
async fn listing_throttled_throughout_fails_the_run_as_throttled_before_any_change() {
    assert_eq!(
        list_with(Fault::Throttled).await,
        (Err("Throttled"), ATTEMPTS, 0)
    );
}

#[tokio::test]
async fn listing_5xx_fails_the_run_as_unavailable_before_any_change() {
    assert_eq!(
        list_with(Fault::ServerError).await,
        (Err("Unavailable"), ATTEMPTS, 0)
    );
}

#[tokio::test]
async fn listing_timeout_fails_the_run_as_unavailable_before_any_change() {
    assert_eq!(
        list_with(Fault::Timeout).await,
        (Err("Unavailable"), ATTEMPTS, 0)
    );
}

/// The state table's own items on DynamoDB, with the event ledger (fleet-core's, on the same
/// table) in memory: its reads and writes would otherwise meet the fault first.
struct Table {
    items: DynamoState,
    ledger: MemoryLedger,
}

impl Table {
    fn on(client: aws_sdk_dynamodb::Client) -> Self {
        Self {
            items: DynamoState::new(client, "fleet-state"),
            ledger: MemoryLedger::default(),
        }
    }
}

impl StateStore for Table {
    type Ledger = MemoryLedger;

    async fn last_successful_run(&self) -> Result<Option<DateTime<Utc>>, ServiceError> {
        self.items.last_successful_run().await
    }

    async fn record_successful_run(&self, at: DateTime<Utc>) -> Result<(), ServiceError> {
        self.items.record_successful_run(at).await
    }

    async fn notes(&self, instance_ids: &[String]) -> Result<Vec<InstanceNote>, ServiceError> {
        self.items.notes(instance_ids).await
    }

    async fn save_notes(&self, notes: &[InstanceNote]) -> Result<(), ServiceError> {
        self.items.save_notes(notes).await
    }

    async fn forget_notes(&self, instance_ids: &[String]) -> Result<(), ServiceError> {
        self.items.forget_notes(instance_ids).await
    }

    fn ledger(&self) -> &MemoryLedger {
        &self.ledger
    }
}

/// The table's calls in a run, in order.
#[derive(Debug, Clone, Copy)]
enum TableCall {
    /// GetItem: the last run's time.
    ReadWindow,
    /// BatchGetItem: the notes about the listed instances.
    ReadNotes,
    /// BatchWriteItem: the notes that changed (after the changes).
    SaveNotes,
    /// PutItem: the window moves on (last).
    RecordRun,
}

/// An empty table that takes every write.
fn healthy_table_rules() -> [Rule; 4] {
    [
        mock!(aws_sdk_dynamodb::Client::get_item).then_output(|| GetItemOutput::builder().build()),
        mock!(aws_sdk_dynamodb::Client::batch_get_item)
            .then_output(|| BatchGetItemOutput::builder().build()),
        mock!(aws_sdk_dynamodb::Client::batch_write_item)
            .then_output(|| BatchWriteItemOutput::builder().build()),
        mock!(aws_sdk_dynamodb::Client::put_item).then_output(|| PutItemOutput::builder().build()),
    ]
}

/// The table with `fault` on `call`, its other calls answered.
fn table_with(call: TableCall, fault: Fault) -> Injected<aws_sdk_dynamodb::Client> {
    let [get, batch_get, batch_write, put] = healthy_table_rules();
    match call {
        TableCall::ReadWindow => inject!(
            aws_sdk_dynamodb,
            aws_sdk_dynamodb::Client::get_item,
            fault,
            || GetItemError::generic(throughput_exceeded()),
            || GetItemOutput::builder().build(),
            get,
            batch_get,
            batch_write,
            put
        ),
        TableCall::ReadNotes => inject!(
            aws_sdk_dynamodb,
            aws_sdk_dynamodb::Client::batch_get_item,
            fault,
            || BatchGetItemError::generic(throughput_exceeded()),
            || BatchGetItemOutput::builder().build(),
            get,
            batch_get,
            batch_write,
            put
        ),
        TableCall::SaveNotes => inject!(
            aws_sdk_dynamodb,
            aws_sdk_dynamodb::Client::batch_write_item,
            fault,
            || BatchWriteItemError::generic(throughput_exceeded()),
            || BatchWriteItemOutput::builder().build(),
            get,
            batch_get,
            batch_write,
            put
        ),
        TableCall::RecordRun => inject!(
            aws_sdk_dynamodb,
            aws_sdk_dynamodb::Client::put_item,
            fault,
            || PutItemError::generic(throughput_exceeded()),
            || PutItemOutput::builder().build(),
            get,
            batch_get,
            batch_write,
            put
        ),
    }
}

/// The 08:00 event on the table with `fault` on `call`, over the in-memory EC2: one instance
/// to start, and a one-off stop tonight whose first sighting is a note to save. Returns the run's
/// starts (or its error type), the attempts the faulty call saw, and the starts EC2 received
/// once Lambda's retry of a failed invocation (on a table that answers again) has run too.
/// Whatever failed, the start is reported exactly once, by the attempt that made it: a write
/// refused after the start must not lose it (the retry finds the instance running and has
/// nothing to report).
async fn table_run(call: TableCall, fault: Fault) -> (Result<usize, &'static str>, usize, usize) {
    let table = table_with(call, fault);
    let mut app = App {
        scheduler: Scheduler {
            ec2: InMemoryEc2::new(
                [
                    FakeInstance::new(
                        "i-web",
                        InstanceState::Stopped,
                        &[("Schedule", OFFICE_HOURS)],
                    ),
                    FakeInstance::new("i-batch", InstanceState::Running, &[("Schedule", "-18:30")]),
                ],
                1000,
            ),
            state: Table::on(table.client.clone()),
            clock: clock(StateChange::Start),
            settings: Settings::default(),
        },
        notifier: Some(RecordingNotifier::default()),
    };
    let answer: Result<RunReport, HandlerError> =
        app.handle(lambda_event(StateChange::Start)).await;
    let first_reports = app.notifier.as_ref().unwrap().sent();
    if answer.is_err() {
        let [get, batch_get, batch_write, put] = healthy_table_rules();
        let healthy = mock_client!(
            aws_sdk_dynamodb,
            RuleMode::MatchAny,
            [&get, &batch_get, &batch_write, &put]
        );
        // The event ledger lives in the same table: the retry sees what the attempt stored.
        let ledger = std::mem::take(&mut app.scheduler.state.ledger);
        app.scheduler.state = Table {
            ledger,
            ..Table::on(healthy)
        };
        app.handle(lambda_event(StateChange::Start))
            .await
            .expect("the retry, on a table that answers, succeeds");
    }
    let reports = app.notifier.as_ref().unwrap().sent();
    let starts_reported = reports
        .iter()
        .filter(|(_, text)| {
            text.lines()
                .any(|l| l.starts_with("i-web ") && l.contains("start"))
        })
        .count();
    assert_eq!(starts_reported, 1, "{call:?} {fault:?}: {reports:#?}");
    if answer.is_err() && matches!(call, TableCall::SaveNotes | TableCall::RecordRun) {
        let [(subject, text)] = first_reports.as_slice() else {
            panic!("{call:?} {fault:?}: the failed attempt reports its start: {first_reports:#?}");
        };
        assert!(subject.contains("(incomplete)"), "{subject}");
        assert!(
            text.contains("the state table did not record this run"),
            "{text}"
        );
    }
    assert_eq!(
        app.scheduler.ec2.instance("i-web").unwrap().state,
        InstanceState::Running
    );
    (
        answer
            .map(|report| report.counts.start)
            .map_err(|e| e.error_type()),
        table.attempts(),
        app.scheduler.ec2.calls().change_state,
    )
}

#[tokio::test]
async fn window_read_throttled_then_answered_is_retried_and_the_run_starts_once() {
    assert_eq!(
        table_run(TableCall::ReadWindow, Fault::ThrottledThenOk).await,
        (Ok(1), ATTEMPTS, 1)
    );
}

#[tokio::test]
async fn window_read_throttled_throughout_fails_the_run_before_any_change() {
    assert_eq!(
        table_run(TableCall::ReadWindow, Fault::Throttled).await,
        (Err("Throttled"), ATTEMPTS, 1)
    );
}

#[tokio::test]
async fn window_read_5xx_fails_the_run_as_unavailable_before_any_change() {
    assert_eq!(
        table_run(TableCall::ReadWindow, Fault::ServerError).await,
        (Err("Unavailable"), ATTEMPTS, 1)
    );
}

/// A silent client answers none of the table's calls: the first, the window's read, fails.
#[tokio::test]
async fn state_table_timeout_fails_the_run_as_unavailable_before_any_change() {
    assert_eq!(
        table_run(TableCall::ReadWindow, Fault::Timeout).await,
        (Err("Unavailable"), ATTEMPTS, 1)
    );
}

#[tokio::test]
async fn notes_read_throttled_then_answered_is_retried_and_the_run_starts_once() {
    assert_eq!(
        table_run(TableCall::ReadNotes, Fault::ThrottledThenOk).await,
        (Ok(1), ATTEMPTS, 1)
    );
}

#[tokio::test]
async fn notes_read_throttled_throughout_fails_the_run_before_any_change() {
    assert_eq!(
        table_run(TableCall::ReadNotes, Fault::Throttled).await,
        (Err("Throttled"), ATTEMPTS, 1)
    );
}

#[tokio::test]
async fn notes_read_5xx_fails_the_run_as_unavailable_before_any_change() {
    assert_eq!(
        table_run(TableCall::ReadNotes, Fault::ServerError).await,
        (Err("Unavailable"), ATTEMPTS, 1)
    );
}

#[tokio::test]
async fn notes_write_throttled_then_answered_is_retried_and_the_run_succeeds() {
    assert_eq!(
        table_run(TableCall::SaveNotes, Fault::ThrottledThenOk).await,
        (Ok(1), ATTEMPTS, 1)
    );
}

/// The start happened; the invocation fails so that the note is written by Lambda's retry,
/// which finds the instance running and starts nothing again.
#[tokio::test]
async fn notes_write_throttled_throughout_fails_the_run_and_its_retry_starts_nothing_twice() {
    assert_eq!(
        table_run(TableCall::SaveNotes, Fault::Throttled).await,
        (Err("Throttled"), ATTEMPTS, 1)
    );
}

#[tokio::test]
async fn notes_write_5xx_fails_the_run_and_its_retry_starts_nothing_twice() {
    assert_eq!(
        table_run(TableCall::SaveNotes, Fault::ServerError).await,
        (Err("Unavailable"), ATTEMPTS, 1)
    );
}

#[tokio::test]
async fn window_write_throttled_then_answered_is_retried_and_the_run_succeeds() {
    assert_eq!(
        table_run(TableCall::RecordRun, Fault::ThrottledThenOk).await,
        (Ok(1), ATTEMPTS, 1)
    );
}

/// The window did not move: Lambda's retry covers it again and starts nothing twice.
#[tokio::test]
async fn window_write_throttled_throughout_fails_the_run_and_its_retry_starts_nothing_twice() {
    assert_eq!(
        table_run(TableCall::RecordRun, Fault::Throttled).await,
        (Err("Throttled"), ATTEMPTS, 1)
    );
}

#[tokio::test]
async fn window_write_5xx_fails_the_run_and_its_retry_starts_nothing_twice() {
    assert_eq!(
        table_run(TableCall::RecordRun, Fault::ServerError).await,
        (Err("Unavailable"), ATTEMPTS, 1)
    );
}
