//! The responder behind API Gateway: `/approvals/{id}?sig=…`. GET, HEAD and OPTIONS never decide;
//! POST (a form with Approve or Reject and an optional comment) decides once. Every value on a
//! page is HTML-escaped; pages are not cached, not indexed and send no referrer (the link is a
//! capability).

use lambda_http::http::header::{HeaderValue, ALLOW, CACHE_CONTROL};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};

use fleet_core::http::{not_allowed, path, respond};
use fleet_core::HttpHandler;

use crate::approvals::{Approvals, Client, DecisionForm, Prompt, View};
use crate::email::escape_html;
use crate::model::{human_time, ApprovalRequest, Status};
use crate::ports::{ApprovalStore, Mailer, StepUp, TaskCallbacks};

const ALLOWED: &str = "GET, HEAD, OPTIONS, POST";
/// Form posts are small: a choice, a comment of ≤ 1,000 characters, a code.
const MAX_BODY_BYTES: usize = 8 * 1024;
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

/// The responder's Lambda entry.
pub struct Responder<S, T, M, U> {
    pub approvals: Approvals<S, T, M, U>,
}

/// `sig` from the query string (`""` when absent).
pub fn signature(request: &Request) -> String {
    request
        .uri()
        .query()
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "sig").map(|(_, v)| v))
        .unwrap_or_default()
}

/// Source IP from API Gateway's request context (REST or HTTP API), user agent from the header.
pub fn client(request: &Request) -> Client {
    use lambda_http::request::RequestContext;
    let ip = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(c)) => c.http.source_ip.clone(),
        Some(RequestContext::ApiGatewayV1(c)) => c.identity.source_ip.clone(),
        _ => None,
    };
    let user_agent = request
        .headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Client { ip, user_agent }
}

impl<S, T, M, U> HttpHandler for Responder<S, T, M, U>
where
    S: ApprovalStore,
    T: TaskCallbacks,
    M: Mailer,
    U: StepUp,
{
    async fn handle(&self, request: Request) -> Response<Body> {
        let path = path(&request);
        let Some(id) = path
            .strip_prefix("/approvals/")
            .filter(|id| !id.is_empty() && !id.contains('/'))
        else {
            return page(
                StatusCode::NOT_FOUND,
                "Not found",
                "<p>There is nothing here.</p>",
            );
        };
        let sig = signature(&request);
        let method = request.method().clone();
        match method {
            Method::GET => render(&self.approvals.view(id, &sig).await, id, &sig),
            Method::HEAD => {
                let mut response = render(&self.approvals.view(id, &sig).await, id, &sig);
                *response.body_mut() = Body::Empty;
                response
            }
            Method::OPTIONS => {
                let mut response = respond(StatusCode::NO_CONTENT, "text/plain", Body::Empty);
                response
                    .headers_mut()
                    .insert(ALLOW, HeaderValue::from_static(ALLOWED));
                response
            }
            Method::POST => {
                let body = request.body().as_ref();
                if body.len() > MAX_BODY_BYTES {
                    return page(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "Too large",
                        "<p>The form is too large.</p>",
                    );
                }
                // A form that does not parse is a form without a choice: the page asks again.
                let form: DecisionForm = serde_urlencoded::from_bytes(body).unwrap_or_default();
                let client = client(&request);
                render(
                    &self.approvals.decide(id, &sig, form, client).await,
                    id,
                    &sig,
                )
            }
            _ => not_allowed(ALLOWED),
        }
    }
}

fn page(status: StatusCode, title: &str, body: &str) -> Response<Body> {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{}</title>\
         <style>body{{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em}}\
         th{{text-align:left;padding-right:1em}}button{{font-size:1.1em;margin-right:1em;padding:.4em 1.2em}}\
         textarea{{width:100%}}.note{{color:#555}}</style></head>\
         <body><h1 id=\"result\">{}</h1>{body}</body></html>",
        escape_html(title),
        escape_html(title),
    );
    let mut response = respond(status, "text/html; charset=utf-8", html);
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    headers.insert("content-security-policy", HeaderValue::from_static(CSP));
    response
}

fn summary(request: &ApprovalRequest) -> String {
    let mut rows = format!(
        "<table><tr><th>Request</th><td>{}</td></tr>",
        escape_html(&request.subject)
    );
    for (k, v) in &request.details {
        rows.push_str(&format!(
            "<tr><th>{}</th><td>{}</td></tr>",
            escape_html(k),
            escape_html(v)
        ));
    }
    if let Some(r) = &request.requester {
        rows.push_str(&format!(
            "<tr><th>Requested by</th><td>{}</td></tr>",
            escape_html(r)
        ));
    }
    rows.push_str(&format!(
        "<tr><th>For</th><td id=\"approver\">{}</td></tr><tr><th>Expires</th><td>{}</td></tr></table>",
        escape_html(&request.approver),
        escape_html(&human_time(request.expires_at)),
    ));
    rows
}

fn decided_line(request: &ApprovalRequest, already: bool) -> String {
    match &request.decision {
        Some(d) => format!(
            "<p id=\"decision\">{} by {} at {}.</p>{}",
            if already {
                format!("Already {}", d.verdict.past())
            } else {
                capitalise(d.verdict.past())
            },
            escape_html(&d.by),
            escape_html(&human_time(d.at)),
            if d.comment.is_empty() {
                String::new()
            } else {
                format!("<p>Comment: {}</p>", escape_html(&d.comment))
            }
        ),
        None => String::new(),
    }
}

/// The page for a view. `id` and `sig` come from the request; they are only echoed into the form
/// action after the signature matched, and escaped.
pub fn render(view: &View, id: &str, sig: &str) -> Response<Body> {
    match view {
        View::Invalid => page(
            StatusCode::FORBIDDEN,
            "This link is not valid",
            "<p id=\"refusal\">The link is incomplete, altered, or not for this request. Nothing was \
             changed. Use the link from your email exactly as it arrived.</p>",
        ),
        View::Unavailable => page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Please try again",
            "<p>The approval service is busy or unavailable; nothing was decided. Try again in a minute.</p>",
        ),
        View::Open {
            request,
            prompt,
            verdict,
            comment,
        } => {
            let (status, message) = match prompt {
                Prompt::Choose => (StatusCode::OK, ""),
                Prompt::MissingChoice => (StatusCode::BAD_REQUEST, "<p class=\"error\">Choose Approve or Reject.</p>"),
                Prompt::CodeSent => (StatusCode::OK, "<p id=\"code-sent\">A one-time code was sent to you. Enter it and confirm your choice.</p>"),
                Prompt::WrongCode => (StatusCode::FORBIDDEN, "<p class=\"error\">That code is wrong or expired. Enter the latest code you received.</p>"),
                Prompt::Locked => (StatusCode::TOO_MANY_REQUESTS, "<p class=\"error\">Too many wrong codes. Wait a while, then try again.</p>"),
            };
            let code_field = if matches!(prompt, Prompt::CodeSent | Prompt::WrongCode | Prompt::Locked) {
                "<p><label>One-time code <input id=\"code\" name=\"code\" inputmode=\"numeric\" \
                 autocomplete=\"one-time-code\" maxlength=\"10\"></label></p>"
            } else {
                ""
            };
            let checked = |v: crate::model::Verdict| {
                if *verdict == Some(v) { " autofocus" } else { "" }
            };
            let body = format!(
                "{}{message}<form method=\"post\" action=\"{}?sig={}\">\
                 <p><label for=\"comment\">Comment (optional)</label><br>\
                 <textarea id=\"comment\" name=\"comment\" rows=\"3\" maxlength=\"1000\">{}</textarea></p>\
                 {code_field}\
                 <p><button id=\"approve\" name=\"decision\" value=\"approve\"{}>Approve</button>\
                 <button id=\"reject\" name=\"decision\" value=\"reject\"{}>Reject</button></p></form>\
                 <p class=\"note\">Nothing is decided until you press a button.</p>",
                summary(request),
                escape_html(id),
                escape_html(sig),
                escape_html(comment),
                checked(crate::model::Verdict::Approve),
                checked(crate::model::Verdict::Reject),
            );
            page(status, "Approval needed", &body)
        }
        View::Done { request, just_now } => {
            let title = match (&request.decision, just_now) {
                (Some(d), true) => format!("{} — thank you", capitalise(d.verdict.past())),
                (Some(d), false) => format!("Already {}", d.verdict.past()),
                (None, _) => "Done".to_owned(),
            };
            let body = format!("{}{}", decided_line(request, !just_now), summary(request));
            page(StatusCode::OK, &title, &body)
        }
        View::Recorded { request } => {
            let body = format!(
                "{}<p id=\"retry\">Your decision is recorded but has not reached the workflow yet. \
                 Press Try again in a minute; only the recorded decision is sent.</p>\
                 <form method=\"post\" action=\"{}?sig={}\"><button id=\"try-again\">Try again</button></form>{}",
                decided_line(request, false),
                escape_html(id),
                escape_html(sig),
                summary(request),
            );
            let mut response = page(StatusCode::SERVICE_UNAVAILABLE, "Recorded, not yet delivered", &body);
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from_static("60"));
            response
        }
        View::Expired { request } => {
            let why = if request.status == Status::Expired && request.decision.is_some() {
                "The decision was recorded too late: the workflow step had already ended."
            } else {
                "The workflow step ended before a decision was made. Nothing can be decided here any more."
            };
            page(
                StatusCode::GONE,
                "This request has expired",
                &format!("<p id=\"expired\">{why}</p>{}", summary(request)),
            )
        }
        View::Refused { request } => page(
            StatusCode::GONE,
            "This request was refused",
            &format!(
                "<p>{}</p>",
                escape_html(request.note.as_deref().unwrap_or("The request could not be accepted."))
            ),
        ),
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
