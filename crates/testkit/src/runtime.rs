//! A Lambda Runtime API emulator: runs a function binary as Lambda would, on loopback.
//!
//! [`RuntimeApi`] serves the four endpoints a runtime client calls (AWS's "Runtime API",
//! version 2018-06-01) on a free loopback port:
//! - `GET /2018-06-01/runtime/invocation/next`: the next queued event, with the
//!   `Lambda-Runtime-Aws-Request-Id`, `-Deadline-Ms`, `-Invoked-Function-Arn` and `-Trace-Id`
//!   headers; it waits while the queue is empty, as Lambda does;
//! - `POST /2018-06-01/runtime/invocation/{id}/response`: the function's answer;
//! - `POST /2018-06-01/runtime/invocation/{id}/error`: a failed invocation, with the
//!   `Lambda-Runtime-Function-Error-Type` header and the JSON body kept as sent;
//! - `POST /2018-06-01/runtime/init/error`: a failure before the first `next`.
//!
//! [`Function`] starts a binary against it with the environment Lambda gives a `provided`
//! runtime (nothing inherited from the test), sends events one by one and returns each
//! [`Outcome`], the time from process start to the first answer, and the peak RSS.
//!
//! Finding a workspace binary: [`workspace_binary`].

use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const API: &str = "/2018-06-01/runtime";
/// Largest request body the emulator reads (Lambda's synchronous payload limit is 6 MB).
const MAX_BODY: usize = 16 * 1024 * 1024;
/// How much of the function's stdout and stderr [`Run::logs`] keeps.
const MAX_LOGS: usize = 4 * 1024 * 1024;

/// What a failed invocation or a failed init sent.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionError {
    /// The `Lambda-Runtime-Function-Error-Type` header, when sent.
    pub header: Option<String>,
    /// The body (`{"errorType": …, "errorMessage": …}`), as JSON; a body that is not JSON is
    /// kept as a JSON string.
    pub body: Value,
}

impl FunctionError {
    /// The body's `errorType`, else the header.
    pub fn error_type(&self) -> &str {
        self.body
            .get("errorType")
            .and_then(Value::as_str)
            .or(self.header.as_deref())
            .unwrap_or_default()
    }

    /// The body's `errorMessage`.
    pub fn message(&self) -> &str {
        self.body
            .get("errorMessage")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// What became of one event.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `POST …/invocation/{id}/response`: the body as JSON (a JSON string when it is not JSON).
    Response(Value),
    /// `POST …/invocation/{id}/error`.
    Error(FunctionError),
    /// `POST …/init/error`: the function failed before taking the event.
    InitError(FunctionError),
    /// The process ended without answering: `process exited with status N` or
    /// `process killed by signal N`.
    Exited(String),
    /// No answer within the function's timeout; the process was killed.
    TimedOut(Duration),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Response(body) => write!(f, "response {body}"),
            Outcome::Error(e) => write!(f, "error {}: {}", e.error_type(), e.message()),
            Outcome::InitError(e) => write!(f, "init error {}: {}", e.error_type(), e.message()),
            Outcome::Exited(how) => f.write_str(how),
            Outcome::TimedOut(after) => write!(f, "no answer within {after:?}"),
        }
    }
}

/// One event's outcome and how long the function had it.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub outcome: Outcome,
    /// From the function's `next` call returning this event to its answer; `None` when the
    /// function never took it or never answered.
    pub took: Option<Duration>,
    /// From queueing the event to its answer, as a caller of `Invoke` waits for it; `None` when
    /// it never answered.
    pub latency: Option<Duration>,
}

/// Everything one [`Function::run`] observed.
#[derive(Debug, Clone)]
pub struct Run {
    /// One per event sent, in order. Shorter than the events when the function died (init
    /// error, exit, timeout): the emulator does not start a second process.
    pub answers: Vec<Answer>,
    /// From spawning the process to its first `…/response` or `…/error` (a cold start plus
    /// the first invocation); `None` when it never answered.
    pub first_response: Option<Duration>,
    /// `VmHWM` from `/proc/<pid>/status` (KiB): read just before the process is killed, or
    /// the last value sampled (every few milliseconds) when it ended by itself.
    pub peak_rss_kib: Option<u64>,
    /// How the process ended: `killed after the last event`, `process exited with status N`, …
    pub ended: String,
    /// The function's stdout and stderr (the first 4 MiB).
    pub logs: String,
}

impl Run {
    /// The outcomes alone, in order.
    pub fn outcomes(&self) -> Vec<&Outcome> {
        self.answers.iter().map(|a| &a.outcome).collect()
    }
}

struct Queued {
    id: String,
    body: Vec<u8>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Queued>,
    /// Request id → when the function's `next` returned it.
    taken: HashMap<String, Instant>,
    /// Request id → outcome and when it arrived.
    answered: HashMap<String, (Outcome, Instant)>,
    init_error: Option<(FunctionError, Instant)>,
    /// The first `…/response` or `…/error`.
    first_answer: Option<Instant>,
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    /// Open connections by number, so that stopping can end them.
    connections: Mutex<HashMap<u64, TcpStream>>,
    function_arn: String,
    timeout: Duration,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The Runtime API on a free loopback port, stopped on drop.
pub struct RuntimeApi {
    address: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl RuntimeApi {
    /// Starts serving for a function named `function_name` (in the ARN it hands out) whose
    /// invocations get `timeout` (the deadline header).
    pub fn start(function_name: &str, timeout: Duration) -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("runtime API: no loopback port: {e}"));
        let address = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("runtime API: {e}"));
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            connections: Mutex::new(HashMap::new()),
            function_arn: format!(
                "arn:aws:lambda:{}:{}:function:{function_name}",
                crate::REGION,
                crate::ACCOUNT_ID
            ),
            timeout,
        });
        let for_acceptor = Arc::clone(&shared);
        let acceptor = std::thread::spawn(move || accept(listener, for_acceptor));
        RuntimeApi {
            address,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API` (`127.0.0.1:PORT`, as Lambda sets it: no scheme).
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// Queues an event; returns its request id.
    pub fn push(&self, event: &Value) -> String {
        let id = request_id();
        let body = serde_json::to_vec(event).unwrap_or_default();
        self.shared.lock().queue.push_back(Queued {
            id: id.clone(),
            body,
        });
        self.shared.changed.notify_all();
        id
    }

    /// Waits up to `wait` for the outcome of request `id`, or for an init error (which answers
    /// every request). `None` when neither came.
    pub fn outcome(&self, id: &str, wait: Duration) -> Option<Outcome> {
        let until = Instant::now() + wait;
        let mut state = self.shared.lock();
        loop {
            if let Some((outcome, _)) = state.answered.get(id) {
                return Some(outcome.clone());
            }
            if let Some((error, _)) = &state.init_error {
                return Some(Outcome::InitError(error.clone()));
            }
            let now = Instant::now();
            if now >= until {
                return None;
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, until - now)
                .map(|(s, _)| s)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    /// How long the function had request `id` (from `next` to its answer).
    fn took(&self, id: &str) -> Option<Duration> {
        let state = self.shared.lock();
        let taken = state.taken.get(id)?;
        let (_, at) = state.answered.get(id)?;
        Some(at.saturating_duration_since(*taken))
    }

    fn answered_at(&self, id: &str) -> Option<Instant> {
        self.shared.lock().answered.get(id).map(|(_, at)| *at)
    }

    fn first_answer(&self) -> Option<Instant> {
        self.shared.lock().first_answer
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.changed.notify_all();
        // Wake the acceptor, then end every open connection (a function's pooled keep-alive
        // connection or a waiting `next`).
        let _ = TcpStream::connect(self.address);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        for (_, stream) in self
            .shared
            .connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
        {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

fn accept(listener: TcpListener, shared: Arc<Shared>) {
    for (number, stream) in (0u64..).zip(listener.incoming()) {
        if shared.lock().closed {
            return;
        }
        let Ok(stream) = stream else { continue };
        if let Ok(copy) = stream.try_clone() {
            shared
                .connections
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(number, copy);
        }
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || {
            serve_connection(stream, &shared);
            if let Some(stream) = shared
                .connections
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&number)
            {
                let _ = stream.shutdown(Shutdown::Both);
            }
        });
    }
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type", "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }
}

/// HTTP/1.1 with keep-alive, one request at a time (how the runtime client talks).
fn serve_connection(stream: TcpStream, shared: &Shared) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        let close = request
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let Some(reply) = route(&request, shared) else {
            return;
        };
        if write_reply(&mut writer, &reply).is_err() || close {
            return;
        }
    }
}

fn read_request(reader: &mut impl BufRead) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?;
    let path = target.split('?').next().unwrap_or(target).to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let mut request = Request {
        method,
        path,
        headers,
        body: Vec::new(),
    };
    if request
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    {
        request.body = read_chunked(reader, &mut request.headers)?;
    } else if let Some(length) = request.header("content-length") {
        let length: usize = length.parse().ok()?;
        if length > MAX_BODY {
            return None;
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        request.body = body;
    }
    Some(request)
}

/// A chunked body; trailers (a streamed response's error type) join the headers.
fn read_chunked(reader: &mut impl BufRead, headers: &mut Vec<(String, String)>) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).ok()?;
        let size = usize::from_str_radix(size.trim().split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            break;
        }
        if body.len() + size > MAX_BODY {
            return None;
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..]).ok()?;
        let mut crlf = String::new();
        reader.read_line(&mut crlf).ok()?;
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            break;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    Some(body)
}

fn write_reply(writer: &mut TcpStream, reply: &Reply) -> std::io::Result<()> {
    let reason = match reply.status {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        404 => "Not Found",
        413 => "Payload Too Large",
        _ => "Error",
    };
    let mut head = format!("HTTP/1.1 {} {reason}\r\n", reply.status);
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", reply.body.len()));
    writer.write_all(head.as_bytes())?;
    writer.write_all(&reply.body)?;
    writer.flush()
}

/// `None` ends the connection (the emulator is stopping).
fn route(request: &Request, shared: &Shared) -> Option<Reply> {
    let Some(rest) = request.path.strip_prefix(API) else {
        return Some(not_found(request));
    };
    let segments: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    match (request.method.as_str(), segments.as_slice()) {
        ("GET", ["invocation", "next"]) => next(shared),
        ("POST", ["invocation", id, "response"]) => {
            let body = json_or_string(&request.body);
            Some(answer(shared, id, Outcome::Response(body)))
        }
        ("POST", ["invocation", id, "error"]) => {
            let error = function_error(request);
            Some(answer(shared, id, Outcome::Error(error)))
        }
        ("POST", ["init", "error"]) => {
            let mut state = shared.lock();
            state.init_error = Some((function_error(request), Instant::now()));
            drop(state);
            shared.changed.notify_all();
            Some(accepted())
        }
        _ => Some(not_found(request)),
    }
}

fn next(shared: &Shared) -> Option<Reply> {
    let mut state = shared.lock();
    let event = loop {
        if state.closed {
            return None;
        }
        if let Some(event) = state.queue.pop_front() {
            break event;
        }
        state = shared
            .changed
            .wait_timeout(state, Duration::from_millis(200))
            .map(|(s, _)| s)
            .unwrap_or_else(|e| e.into_inner().0);
    };
    state.taken.insert(event.id.clone(), Instant::now());
    drop(state);
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    let deadline = now_ms + shared.timeout.as_millis();
    Some(Reply {
        status: 200,
        headers: vec![
            ("Content-Type", "application/json".into()),
            ("Lambda-Runtime-Aws-Request-Id", event.id),
            ("Lambda-Runtime-Deadline-Ms", deadline.to_string()),
            (
                "Lambda-Runtime-Invoked-Function-Arn",
                shared.function_arn.clone(),
            ),
            ("Lambda-Runtime-Trace-Id", trace_id()),
        ],
        body: event.body,
    })
}

fn answer(shared: &Shared, id: &str, outcome: Outcome) -> Reply {
    let mut state = shared.lock();
    if !state.taken.contains_key(id) {
        return Reply::json(
            400,
            serde_json::json!({"errorType": "InvalidRequestID", "errorMessage": format!("no invocation {id} in progress")}),
        );
    }
    if state.answered.contains_key(id) {
        return Reply::json(
            400,
            serde_json::json!({"errorType": "InvalidStateTransition", "errorMessage": format!("invocation {id} was already answered")}),
        );
    }
    let now = Instant::now();
    state.answered.insert(id.to_owned(), (outcome, now));
    state.first_answer.get_or_insert(now);
    drop(state);
    shared.changed.notify_all();
    accepted()
}

fn accepted() -> Reply {
    Reply::json(202, serde_json::json!({"status": "OK"}))
}

fn not_found(request: &Request) -> Reply {
    Reply::json(
        404,
        serde_json::json!({"errorType": "NotFound", "errorMessage": format!("{} {} is not a Runtime API call", request.method, request.path)}),
    )
}

fn function_error(request: &Request) -> FunctionError {
    FunctionError {
        header: request
            .header("lambda-runtime-function-error-type")
            .map(str::to_owned),
        body: json_or_string(&request.body),
    }
}

fn json_or_string(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

static SEQUENCE: AtomicU64 = AtomicU64::new(1);

fn nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos()
}

/// A UUID-shaped id, unique within this machine and run.
fn request_id() -> String {
    let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    let t = nanos();
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (t >> 32) as u32,
        (t >> 16) as u16,
        std::process::id() & 0xfff,
        n & 0xfff,
        ((n << 24) ^ (t as u64 & 0xff_ffff)) & 0xffff_ffff_ffff
    )
}

/// An X-Ray trace header as Lambda sends it (not sampled).
fn trace_id() -> String {
    let t = nanos();
    let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    format!(
        "Root=1-{:08x}-{:024x};Parent={:016x};Sampled=0",
        (t / 1_000_000_000) as u32,
        (t ^ (u128::from(n) << 64)) & ((1u128 << 96) - 1),
        (n << 32) ^ (t as u64 & 0xffff_ffff)
    )
}

/// A function binary and the environment Lambda would give it.
#[derive(Debug, Clone)]
pub struct Function {
    path: PathBuf,
    name: String,
    memory_mb: u32,
    timeout: Duration,
    init_timeout: Duration,
    env: Vec<(String, String)>,
}

impl Function {
    /// The binary at `path`, named after its file, 128 MB, a 30 s timeout.
    pub fn new(path: impl Into<PathBuf>) -> Function {
        let path = path.into();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "function".to_owned());
        Function {
            path,
            name,
            memory_mb: 128,
            timeout: Duration::from_secs(30),
            init_timeout: Duration::from_secs(10),
            env: Vec::new(),
        }
    }

    /// `AWS_LAMBDA_FUNCTION_NAME` and the ARN in every invocation.
    pub fn name(mut self, name: &str) -> Function {
        name.clone_into(&mut self.name);
        self
    }

    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (nothing enforces it).
    pub fn memory_mb(mut self, memory_mb: u32) -> Function {
        self.memory_mb = memory_mb;
        self
    }

    /// The deadline each invocation gets, and how long the emulator waits for an answer.
    pub fn timeout(mut self, timeout: Duration) -> Function {
        self.timeout = timeout;
        self
    }

    /// How much longer than [`Function::timeout`] the first event may take: Lambda's init
    /// phase, 10 s.
    pub fn init_timeout(mut self, init_timeout: Duration) -> Function {
        self.init_timeout = init_timeout;
        self
    }

    /// One more variable (after the Lambda ones, so it may override them).
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Function {
        self.env.push((key.to_owned(), value.into()));
        self
    }

    /// More variables, e.g. [`crate::Moto::env`].
    pub fn envs<K: AsRef<str>, V: Into<String>>(
        mut self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Function {
        for (key, value) in vars {
            self.env.push((key.as_ref().to_owned(), value.into()));
        }
        self
    }

    /// Starts the process, sends `events` one at a time (each after the previous one's
    /// answer), then kills it. Stops early when the function reports an init error, exits, or
    /// does not answer in time.
    pub fn run(&self, events: &[Value]) -> Run {
        let mut instance = self.start();
        for event in events {
            if !instance.invoke(event).is_alive() {
                break;
            }
        }
        instance.finish()
    }

    /// Starts one instance of the function (its own Runtime API and process), to send events
    /// to one at a time with [`Instance::invoke`], as Lambda does; several instances are
    /// Lambda's concurrency.
    pub fn start(&self) -> Instance {
        let api = RuntimeApi::start(&self.name, self.timeout);
        let logs = Arc::new(Mutex::new(Vec::new()));
        let started = Instant::now();
        let mut child = self.spawn(&api);
        let readers = [
            child
                .stdout
                .take()
                .map(|out| collect(out, Arc::clone(&logs))),
            child
                .stderr
                .take()
                .map(|err| collect(err, Arc::clone(&logs))),
        ];
        let process = Process {
            pid: child.id(),
            child,
            peak: None,
            ended: None,
        };
        Instance {
            api,
            process,
            readers,
            logs,
            started,
            timeout: self.timeout,
            init_timeout: self.init_timeout,
            answers: Vec::new(),
            dead: false,
        }
    }

    fn spawn(&self, api: &RuntimeApi) -> Child {
        let mut command = Command::new(&self.path);
        command
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("LANG", "en_US.UTF-8")
            .env("TZ", ":UTC")
            .env("AWS_LAMBDA_RUNTIME_API", api.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", &self.name)
            .env(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                self.memory_mb.to_string(),
            )
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", self.name),
            )
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "emulator/[$LATEST]0")
            .env("AWS_REGION", crate::REGION)
            .env("AWS_DEFAULT_REGION", crate::REGION)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", self.path.display()))
    }
}

/// One running instance of a [`Function`]: [`Function::start`], [`Instance::invoke`] per event,
/// [`Instance::finish`].
pub struct Instance {
    api: RuntimeApi,
    process: Process,
    readers: [Option<JoinHandle<()>>; 2],
    logs: Arc<Mutex<Vec<u8>>>,
    started: Instant,
    timeout: Duration,
    init_timeout: Duration,
    answers: Vec<Answer>,
    /// It reported an init error, exited or timed out: it takes no more events.
    dead: bool,
}

impl Answer {
    /// The instance can take another event after this one.
    pub fn is_alive(&self) -> bool {
        matches!(self.outcome, Outcome::Response(_) | Outcome::Error(_))
    }
}

impl Instance {
    /// Sends `event` and waits for its answer (the first event also waits for init). After an
    /// answer that ends the instance, every later event is answered with that end at once.
    pub fn invoke(&mut self, event: &Value) -> Answer {
        if self.dead {
            let ended = self.process.poll().unwrap_or_else(|| "stopped".to_owned());
            return Answer {
                outcome: Outcome::Exited(ended),
                took: None,
                latency: None,
            };
        }
        let queued = Instant::now();
        let id = self.api.push(event);
        let wait = if self.answers.is_empty() {
            self.timeout + self.init_timeout
        } else {
            self.timeout
        };
        let until = queued + wait;
        let outcome = loop {
            if let Some(outcome) = self.api.outcome(&id, Duration::from_millis(5)) {
                break outcome;
            }
            if let Some(how) = self.process.poll() {
                // Anything it sent before exiting is recorded: each POST is answered only
                // after that.
                break self
                    .api
                    .outcome(&id, Duration::ZERO)
                    .unwrap_or(Outcome::Exited(how));
            }
            if Instant::now() >= until {
                self.process.ended = Some(format!("killed: no answer within {wait:?}"));
                break Outcome::TimedOut(wait);
            }
        };
        if matches!(outcome, Outcome::InitError(_)) {
            // After reporting an init error a runtime is expected to exit: give it 2 s, so
            // that `ended` says how it did.
            let until = Instant::now() + Duration::from_secs(2);
            while self.process.poll().is_none() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        let answer = Answer {
            took: self.api.took(&id),
            latency: self
                .api
                .answered_at(&id)
                .map(|at| at.saturating_duration_since(queued)),
            outcome,
        };
        self.dead = !answer.is_alive();
        self.answers.push(answer.clone());
        answer
    }

    /// The process's resident set now (`VmRSS`, KiB); `None` once it has ended.
    pub fn rss_kib(&self) -> Option<u64> {
        proc_status_kib(self.process.pid, "VmRSS:")
    }

    /// Kills the process (if it still runs) and tells what it did.
    pub fn finish(mut self) -> Run {
        let ended = self.process.finish();
        let first_response = self
            .api
            .first_answer()
            .map(|at| at.saturating_duration_since(self.started));
        drop(self.api);
        for reader in self.readers.into_iter().flatten() {
            let _ = reader.join();
        }
        let logs = String::from_utf8_lossy(&self.logs.lock().unwrap_or_else(|e| e.into_inner()))
            .into_owned();
        Run {
            answers: self.answers,
            first_response,
            peak_rss_kib: self.process.peak,
            ended,
            logs,
        }
    }
}

/// The function's process: its peak RSS sampled while it lives, how it ended.
struct Process {
    child: Child,
    pid: u32,
    peak: Option<u64>,
    ended: Option<String>,
}

impl Process {
    /// Samples the peak RSS; `Some` once the process has ended by itself.
    fn poll(&mut self) -> Option<String> {
        if self.ended.is_none() {
            self.peak = vm_hwm(self.pid).or(self.peak);
            if let Ok(Some(status)) = self.child.try_wait() {
                self.ended = Some(exit_text(status));
            }
        }
        self.ended.clone()
    }

    /// Reads the peak RSS one last time and kills the process if it still runs.
    fn finish(&mut self) -> String {
        self.peak = vm_hwm(self.pid).or(self.peak);
        let ended = match self.poll() {
            Some(how) => how,
            None => {
                let _ = self.child.kill();
                "killed after the last event".to_owned()
            }
        };
        let _ = self.child.kill();
        let _ = self.child.wait();
        ended
    }
}

/// An instance dropped without [`Instance::finish`] (a panicking caller) leaves no process behind.
impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collect(mut from: impl Read + Send + 'static, into: Arc<Mutex<Vec<u8>>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buffer = [0; 8192];
        while let Ok(n) = from.read(&mut buffer) {
            if n == 0 {
                return;
            }
            let mut logs = into.lock().unwrap_or_else(|e| e.into_inner());
            let room = MAX_LOGS.saturating_sub(logs.len());
            logs.extend_from_slice(&buffer[..n.min(room)]);
        }
    })
}

fn exit_text(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("process exited with status {code}"),
        (None, Some(signal)) => format!("process killed by signal {signal}"),
        _ => format!("process ended: {status}"),
    }
}

/// `VmHWM` (peak resident set, KiB) of a live process.
fn vm_hwm(pid: u32) -> Option<u64> {
    proc_status_kib(pid, "VmHWM:")
}

/// A KiB figure (`field` with its colon) of a live process's `/proc/<pid>/status`.
fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

/// A binary of this workspace, as the running test's own build made it.
///
/// Cargo writes every binary of a build into one profile directory,
/// `<target dir>/[<triple>/]<profile>/`, and a test executable into its `deps/`. So the binary
/// is looked up next to the running executable (one level up from `deps/`): whatever
/// `CARGO_TARGET_DIR`, `build.target-dir`, `--target` or `--profile` the build used, the
/// lookup follows it. Only when it is not there (an executable copied elsewhere) does it fall
/// back to `$CARGO_TARGET_DIR/debug/` or `<workspace>/target/debug/`.
///
/// `cargo test --workspace` (what `make test` runs) builds a function's binary in the same run
/// as the tests that use it, because cargo builds a package's binaries for that package's own
/// integration tests (every function crate has some). Running one test package alone
/// (`cargo test -p fleet-local`) uses the binary of the last build: build the function first
/// (`cargo build -p robot-publisher` writes the same file). A target dir shared by several
/// checkouts holds one such file per binary name: the last checkout to build it wins.
pub fn workspace_binary(name: &str) -> PathBuf {
    let mut candidates = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            let dir = if dir.file_name().is_some_and(|n| n == "deps") {
                dir.parent().unwrap_or(dir)
            } else {
                dir
            };
            candidates.push(dir.join(name));
        }
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::workspace_root().join("target"));
    candidates.push(target.join("debug").join(name));
    candidates
        .iter()
        .find(|path| is_executable(path))
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "{name} is not built (looked for {}): `make test` builds it, or `cargo build --bin {name}`",
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
