//! Step Functions approvals by email, safely. Four Lambda functions over one approval model:
//!
//! - `approval-poller`: the seed's activity worker (`GetActivityTask` long polls on a schedule);
//! - `approval-callback`: the `lambda:invoke.waitForTaskToken` entry;
//! - `approval-responder`: the signed-link pages behind API Gateway (GET shows, POST decides);
//! - `approval-sweep`: expiry, one reminder, redelivery of decisions that did not get through.
//!
//! Tokens are stored under a random request id before anything else happens with them; links
//! carry only the id and an HMAC signature.

pub mod approvals;
#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "aws")]
pub mod cli;
pub mod config;
#[cfg(feature = "contract")]
pub mod contract;
pub mod email;
pub mod http;
pub mod memory;
pub mod model;
pub mod policy;
pub mod ports;
pub mod sign;
pub mod stepup;
pub mod trigger;

use chrono::Duration;
use fleet_core::clock::lambda_deadline;
use fleet_core::{ErrorClass, EventHandler, HandlerError};
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde_json::Value;

pub use approvals::{
    Approvals, IncomingTask, IntakeError, IntakeOutcome, Settings, SweepReport, View,
};
pub use http::Responder;
pub use model::{ApprovalRequest, Status, Verdict};
pub use ports::{ActivityTasks, ApprovalStore, Mailer, StepUp, TaskCallbacks};

/// `GetActivityTask` holds a poll for up to 60 s; a poll starts only with this much time left.
pub const POLL_WINDOW: Duration = Duration::seconds(70);
/// The sweep stops this long before Lambda's deadline.
pub const SWEEP_MARGIN: Duration = Duration::seconds(5);

/// The callback entry: `{taskToken, input, executionArn, workflow, timeoutSeconds}` → stored,
/// emailed once (a retried invocation for the same token sends no second email).
pub struct CallbackApp<S, T, M, U> {
    pub approvals: Approvals<S, T, M, U>,
}

impl<S: ApprovalStore, T: TaskCallbacks, M: Mailer, U: StepUp> EventHandler
    for CallbackApp<S, T, M, U>
{
    type Output = IntakeOutcome;

    async fn handle(&self, event: LambdaEvent<Value>) -> Result<IntakeOutcome, HandlerError> {
        let task = trigger::callback(event.payload)?;
        // A failure before the email went out fails the invocation with its class, so the
        // state's Retry invokes again; the token is found stored and the email sent once.
        self.approvals
            .intake(task)
            .await
            .map_err(|e| HandlerError::from_error(&e))
    }
}

/// What one poller run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PollReport {
    pub polls: usize,
    pub tasks: usize,
    pub emailed: usize,
    pub refused: usize,
    /// Tasks stored but not finished (the sweep finishes them) or failed because they could not
    /// be stored.
    pub failed: usize,
}

/// The seed's activity worker: polls while it has time, handles every task it gets.
pub struct PollerApp<A, S, T, M, U> {
    pub activity: A,
    pub approvals: Approvals<S, T, M, U>,
    /// Polls per invocation at most (a poll that returns at once must not spin).
    pub max_polls: usize,
}

impl<A, S, T, M, U> EventHandler for PollerApp<A, S, T, M, U>
where
    A: ActivityTasks,
    S: ApprovalStore,
    T: TaskCallbacks,
    M: Mailer,
    U: StepUp,
{
    type Output = PollReport;

    async fn handle(&self, event: LambdaEvent<Value>) -> Result<PollReport, HandlerError> {
        trigger::scheduled(event.payload)?;
        let deadline = lambda_deadline(event.context.deadline);
        let mut report = PollReport::default();
        let mut poll_error = None;
        while report.polls < self.max_polls {
            if deadline.is_some_and(|d| self.approvals.env.clock.now() + POLL_WINDOW >= d) {
                break;
            }
            report.polls += 1;
            match self.activity.next_task().await {
                // Without a deadline (a local run) one empty poll ends the run.
                Ok(None) if deadline.is_none() => break,
                Ok(None) => {}
                Ok(Some(task)) => {
                    report.tasks += 1;
                    self.handle_task(task, &mut report).await;
                }
                Err(error) => {
                    tracing::error!(error = %error, "GetActivityTask failed");
                    poll_error = Some(error);
                    break;
                }
            }
        }
        tracing::info!(?report, "poller run done");
        if let Some(error) = poll_error {
            if report.tasks == 0 {
                return Err(HandlerError::from_error(&error));
            }
        }
        if report.failed > 0 {
            return Err(HandlerError::new(
                ErrorClass::ActionsFailed,
                format!(
                    "{} of {} task(s) could not be finished (see the log); stored ones are finished by the sweep",
                    report.failed, report.tasks
                ),
            ));
        }
        Ok(report)
    }
}

impl<A, S, T, M, U> PollerApp<A, S, T, M, U>
where
    A: ActivityTasks,
    S: ApprovalStore,
    T: TaskCallbacks,
    M: Mailer,
    U: StepUp,
{
    async fn handle_task(&self, task: ports::ActivityTask, report: &mut PollReport) {
        let token = task.token.clone();
        let incoming = match trigger::activity(task.token, &task.input) {
            Ok(incoming) => incoming,
            Err(error) => {
                tracing::error!(error = %error, "an activity task with an unusable token");
                report.failed += 1;
                return;
            }
        };
        match self.approvals.intake(incoming).await {
            Ok(outcome) => {
                report.emailed += usize::from(outcome.emailed);
                report.refused += usize::from(outcome.status == Status::Refused.as_str());
            }
            Err(IntakeError::NotStored(error)) => {
                // The token exists nowhere else: fail the task now rather than lose it silently
                // and leave the execution waiting for its timeout.
                tracing::error!(error = %error, "an activity task could not be stored; failing it");
                let cause = format!("the approval request could not be stored: {error}");
                if let Err(e) = self
                    .approvals
                    .tasks
                    .send_failure(&token, "ApprovalNotStored", &cause)
                    .await
                {
                    tracing::error!(error = %e, "failing the unstored task failed too");
                }
                report.failed += 1;
            }
            Err(error) => {
                tracing::warn!(error = %error, "an activity task is stored but not finished");
                report.failed += 1;
            }
        }
    }
}

/// The expiry and reminder sweep.
pub struct SweepApp<S, T, M, U> {
    pub approvals: Approvals<S, T, M, U>,
}

impl<S: ApprovalStore, T: TaskCallbacks, M: Mailer, U: StepUp> EventHandler
    for SweepApp<S, T, M, U>
{
    type Output = SweepReport;

    async fn handle(&self, event: LambdaEvent<Value>) -> Result<SweepReport, HandlerError> {
        trigger::scheduled(event.payload)?;
        let deadline = lambda_deadline(event.context.deadline).map(|d| d - SWEEP_MARGIN);
        let report = self
            .approvals
            .sweep(deadline)
            .await
            .map_err(|e| HandlerError::from_error(&e))?;
        if report.failed > 0 {
            return Err(HandlerError::new(
                ErrorClass::ActionsFailed,
                format!(
                    "{} step(s) failed and are tried again next sweep",
                    report.failed
                ),
            ));
        }
        Ok(report)
    }
}

#[cfg(feature = "aws")]
mod wiring {
    use super::*;
    use crate::config::Config;
    use crate::ports::{NoStepUp, SecretSource};
    use crate::sign::SigningKey;
    use crate::stepup::OtpStepUp;
    use aws_config::SdkConfig;
    use fleet_core::Env;

    /// The service on AWS: DynamoDB, Step Functions, SES v2; the signing key read once.
    pub type AwsApprovals = Approvals<aws::DynamoStore, aws::SfnTasks, aws::SesMailer, AwsStepUp>;

    /// The step-up as deployed: off, or the fleet's OTP library on AWS (the responder only).
    pub enum AwsStepUp {
        Off(NoStepUp),
        Otp(Box<OtpStepUp<fleet_otp::aws::AwsOtp<std::sync::Arc<dyn fleet_core::Clock>>>>),
    }

    impl StepUp for AwsStepUp {
        async fn send_code(
            &self,
            approver: &str,
            purpose: &str,
        ) -> Result<ports::CodeSent, fleet_core::ServiceError> {
            match self {
                AwsStepUp::Off(off) => off.send_code(approver, purpose).await,
                AwsStepUp::Otp(otp) => otp.send_code(approver, purpose).await,
            }
        }

        async fn verify(
            &self,
            approver: &str,
            purpose: &str,
            code: &str,
        ) -> Result<ports::CodeCheck, fleet_core::ServiceError> {
            match self {
                AwsStepUp::Off(off) => off.verify(approver, purpose, code).await,
                AwsStepUp::Otp(otp) => otp.verify(approver, purpose, code).await,
            }
        }
    }

    fn needs(value: &Option<String>, name: &str) -> Result<(), HandlerError> {
        match value {
            Some(_) => Ok(()),
            None => Err(HandlerError::new(
                ErrorClass::InvalidConfig,
                format!("missing environment variable {name}"),
            )),
        }
    }

    /// Only the responder checks codes: the other functions run with the step-up off whatever
    /// `REQUIRE_STEP_UP` says (they never count a decision).
    pub async fn wire_approvals(
        sdk: &SdkConfig,
        config: &Config,
        env: Env,
        step_up: AwsStepUp,
    ) -> Result<AwsApprovals, HandlerError> {
        let secret = aws::SecretsManager::new(sdk)
            .secret_string(&config.signing_secret_id)
            .await
            .map_err(|e| HandlerError::from_error(&e))?;
        let key = SigningKey::new(secret.trim().as_bytes()).map_err(|e| {
            HandlerError::new(ErrorClass::InvalidConfig, format!("SIGNING_SECRET_ID: {e}"))
        })?;
        Ok(Approvals {
            store: aws::DynamoStore::new(sdk, &config.table, config.retention),
            tasks: aws::SfnTasks::new(sdk),
            mailer: aws::SesMailer::new(sdk),
            step_up,
            key,
            policy: config.policy.clone(),
            settings: config.settings.clone(),
            env,
        })
    }

    pub async fn wire_callback(
        sdk: &SdkConfig,
        config: Config,
        env: Env,
    ) -> Result<CallbackApp<aws::DynamoStore, aws::SfnTasks, aws::SesMailer, AwsStepUp>, HandlerError>
    {
        needs(&config.settings.base_url, "PUBLIC_BASE_URL")?;
        Ok(CallbackApp {
            approvals: wire_approvals(sdk, &config, env, AwsStepUp::Off(NoStepUp)).await?,
        })
    }

    pub async fn wire_poller(
        sdk: &SdkConfig,
        config: Config,
        env: Env,
    ) -> Result<
        PollerApp<aws::SfnActivity, aws::DynamoStore, aws::SfnTasks, aws::SesMailer, AwsStepUp>,
        HandlerError,
    > {
        needs(&config.settings.base_url, "PUBLIC_BASE_URL")?;
        needs(&config.activity_arn, "ACTIVITY_ARN")?;
        let activity_arn = config.activity_arn.clone().unwrap_or_default();
        Ok(PollerApp {
            activity: aws::SfnActivity::new(sdk, activity_arn, config.worker_name.clone()),
            approvals: wire_approvals(sdk, &config, env, AwsStepUp::Off(NoStepUp)).await?,
            max_polls: 10,
        })
    }

    pub async fn wire_responder(
        sdk: &SdkConfig,
        config: Config,
        env: Env,
    ) -> Result<Responder<aws::DynamoStore, aws::SfnTasks, aws::SesMailer, AwsStepUp>, HandlerError>
    {
        let step_up = if config.settings.require_step_up {
            let otp_config = config.otp.as_ref().ok_or_else(|| {
                HandlerError::new(
                    ErrorClass::InvalidConfig,
                    "REQUIRE_STEP_UP=true needs the OTP settings: PROFILES_TABLE, CODES_TABLE, CODES_KEY_PREFIX, OTP_KEY_SECRET_ID",
                )
            })?;
            let otp = fleet_otp::aws::from_config(sdk, otp_config, env.clock.clone())
                .await
                .map_err(|e| HandlerError::from_error(&e))?;
            AwsStepUp::Otp(Box::new(OtpStepUp(otp)))
        } else {
            AwsStepUp::Off(NoStepUp)
        };
        Ok(Responder {
            approvals: wire_approvals(sdk, &config, env, step_up).await?,
        })
    }

    pub async fn wire_sweep(
        sdk: &SdkConfig,
        config: Config,
        env: Env,
    ) -> Result<SweepApp<aws::DynamoStore, aws::SfnTasks, aws::SesMailer, AwsStepUp>, HandlerError>
    {
        needs(&config.settings.base_url, "PUBLIC_BASE_URL")?;
        Ok(SweepApp {
            approvals: wire_approvals(sdk, &config, env, AwsStepUp::Off(NoStepUp)).await?,
        })
    }
}

#[cfg(feature = "aws")]
pub use wiring::{
    wire_approvals, wire_callback, wire_poller, wire_responder, wire_sweep, AwsApprovals, AwsStepUp,
};
