//! Who may approve. The approver comes from configuration (workflow → approvers, or allowed
//! domains), never from the execution input alone: whoever may start an execution must not be able
//! to name themselves approver, and a requester never approves their own request.

use std::collections::BTreeMap;

/// `APPROVERS` (`{"promotion": ["boss@example.com"], "*": [...]}`) and `APPROVER_DOMAINS`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApproverPolicy {
    /// Workflow → allowed approvers, the first being the default; `*` for every workflow without
    /// its own list.
    by_workflow: BTreeMap<String, Vec<String>>,
    /// Any address in these domains may approve a workflow without a list of its own.
    domains: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyRefusal {
    #[error("{address:?} is not an email address")]
    InvalidAddress { address: String },
    #[error("{address} may not approve {workflow} requests (not in the configured approvers or domains)")]
    NotAllowed { address: String, workflow: String },
    #[error("no approver is configured for {workflow} and the input names none")]
    NoApprover { workflow: String },
    #[error("{address} requested this and cannot approve it too")]
    SelfApproval { address: String },
}

/// Trimmed and lower-cased; `None` unless it looks like one address (one `@`, a dotted domain, no
/// spaces or control characters, at most 254 characters).
pub fn normalize_address(raw: &str) -> Option<String> {
    let address = raw.trim().to_lowercase();
    let (local, domain) = address.split_once('@')?;
    let plausible = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && address.len() <= 254
        && !address.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"')
        });
    plausible.then_some(address)
}

impl ApproverPolicy {
    /// From the two settings; fails with what is wrong.
    pub fn parse(approvers: Option<&str>, domains: Option<&str>) -> Result<Self, String> {
        let mut by_workflow = BTreeMap::new();
        if let Some(json) = approvers {
            let raw: BTreeMap<String, Vec<String>> = serde_json::from_str(json).map_err(|e| {
                format!("expected {{\"workflow\": [\"approver@example.com\", ...]}}: {e}")
            })?;
            for (workflow, list) in raw {
                let list = list
                    .iter()
                    .map(|a| {
                        normalize_address(a).ok_or_else(|| format!("{a:?} is not an email address"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                if list.is_empty() {
                    return Err(format!("{workflow:?} has no approvers"));
                }
                by_workflow.insert(workflow, list);
            }
        }
        let domains = domains
            .unwrap_or_default()
            .split(',')
            .map(|d| d.trim().trim_start_matches('@').to_lowercase())
            .filter(|d| !d.is_empty())
            .collect::<Vec<_>>();
        if let Some(bad) = domains
            .iter()
            .find(|d| !d.contains('.') || d.contains(char::is_whitespace))
        {
            return Err(format!("{bad:?} is not a domain"));
        }
        Ok(Self {
            by_workflow,
            domains,
        })
    }

    /// Nobody may approve anything.
    pub fn is_empty(&self) -> bool {
        self.by_workflow.is_empty() && self.domains.is_empty()
    }

    fn list_for(&self, workflow: &str) -> Option<&Vec<String>> {
        self.by_workflow
            .get(workflow)
            .or_else(|| self.by_workflow.get("*"))
    }

    /// The approver for a request: the address the input names when the configuration allows it,
    /// otherwise the workflow's first configured approver who is not the requester.
    pub fn choose(
        &self,
        workflow: &str,
        named: Option<&str>,
        requester: Option<&str>,
    ) -> Result<String, PolicyRefusal> {
        let requester = requester.and_then(normalize_address);
        let approver = match named.map(str::trim).filter(|n| !n.is_empty()) {
            Some(raw) => {
                let address =
                    normalize_address(raw).ok_or_else(|| PolicyRefusal::InvalidAddress {
                        address: raw.chars().take(100).collect(),
                    })?;
                let allowed = match self.list_for(workflow) {
                    // A workflow with its own list accepts only that list.
                    Some(list) => list.contains(&address),
                    None => address
                        .rsplit_once('@')
                        .is_some_and(|(_, domain)| self.domains.iter().any(|d| d == domain)),
                };
                if !allowed {
                    return Err(PolicyRefusal::NotAllowed {
                        address,
                        workflow: workflow.to_owned(),
                    });
                }
                address
            }
            None => self
                .list_for(workflow)
                .and_then(|list| list.iter().find(|a| Some(*a) != requester.as_ref()))
                .cloned()
                .ok_or_else(|| PolicyRefusal::NoApprover {
                    workflow: workflow.to_owned(),
                })?,
        };
        if Some(&approver) == requester.as_ref() {
            return Err(PolicyRefusal::SelfApproval { address: approver });
        }
        Ok(approver)
    }
}
