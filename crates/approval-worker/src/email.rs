//! The approval email: HTML and text parts, every input value escaped, a subject without CR/LF,
//! From the configured verified sender.

use crate::model::{human_time, ApprovalRequest};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub from: String,
    pub to: String,
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// SES takes long subjects, mail clients do not show them.
pub const MAX_SUBJECT_CHARS: usize = 200;

/// `& < > " '` escaped: safe in HTML text and in quoted attributes.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One line: control characters (CR and LF included) become spaces, runs of spaces one, clipped.
pub fn clean_line(s: &str, max_chars: usize) -> String {
    let spaced: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    spaced
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(max_chars)
        .collect()
}

/// The email asking `request.approver` to decide, or reminding them.
pub fn approval_email(request: &ApprovalRequest, link: &str, from: &str, reminder: bool) -> Email {
    let subject = clean_line(
        &if reminder {
            format!("Reminder: {}", request.subject)
        } else {
            request.subject.clone()
        },
        MAX_SUBJECT_CHARS,
    );
    let expires = human_time(request.expires_at);
    let requester = request.requester.as_deref();

    let mut text = String::new();
    if reminder {
        text.push_str("This request is still waiting for your decision.\n\n");
    }
    text.push_str(&format!("{}\n\n", request.subject));
    for (key, value) in &request.details {
        text.push_str(&format!("{key}: {value}\n"));
    }
    if let Some(r) = requester {
        text.push_str(&format!("Requested by: {r}\n"));
    }
    text.push_str(&format!(
        "\nApprove or reject it here (the page asks you to confirm): {link}\n\n\
         The link is for {} only and works until {expires}. Opening it decides nothing.\n",
        request.approver
    ));

    let rows: String = request
        .details
        .iter()
        .map(|(k, v)| {
            format!(
                "<tr><th align=\"left\">{}</th><td>{}</td></tr>",
                escape_html(k),
                escape_html(v)
            )
        })
        .chain(requester.map(|r| {
            format!(
                "<tr><th align=\"left\">Requested by</th><td>{}</td></tr>",
                escape_html(r)
            )
        }))
        .collect();
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\">{}<h2>{}</h2>\
         <table cellpadding=\"4\">{rows}</table>\
         <p><a href=\"{}\" style=\"font-size:1.2em\">Review and approve or reject</a></p>\
         <p style=\"color:#555\">The link is for {} only and works until {}. Opening it decides \
         nothing; the page asks you to confirm.</p></body></html>",
        if reminder {
            "<p><b>This request is still waiting for your decision.</b></p>"
        } else {
            ""
        },
        escape_html(&request.subject),
        escape_html(link),
        escape_html(&request.approver),
        escape_html(&expires),
    );
    Email {
        from: from.to_owned(),
        to: request.approver.clone(),
        subject,
        html,
        text,
    }
}
