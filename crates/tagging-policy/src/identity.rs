//! Who launched an instance, from a CloudTrail `userIdentity`, normalised to a tag value.

use serde_json::Value;

use crate::rules::MAX_TAG_VALUE_CHARS;

/// The value written when CloudTrail has no record of the launch.
pub const UNDEFINED: &str = "Undefined";

/// IAM user → user name; assumed role → `role/session` (IAM Identity Center roles → the user);
/// federated user → user; root → `root`; AWS service → its principal. `None` when the record
/// names nobody.
pub fn creator(user_identity: &Value) -> Option<String> {
    let field = |name: &str| {
        user_identity
            .get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let arn_tail = |prefix: &str| {
        field("arn")
            .and_then(|arn| arn.split_once(prefix))
            .map(|(_, rest)| rest.to_owned())
    };
    let found = match field("type")? {
        "IAMUser" => field("userName")
            .map(str::to_owned)
            .or_else(|| arn_tail(":user/").map(|p| last_segment(&p))),
        "AssumedRole" => arn_tail(":assumed-role/").map(|role_session| {
            match role_session.split_once('/') {
                // Identity Center users sign in through AWSReservedSSO_* roles; the session is them.
                Some((role, session)) if role.starts_with("AWSReservedSSO_") => session.to_owned(),
                _ => role_session,
            }
        }),
        "FederatedUser" => arn_tail(":federated-user/"),
        "Root" => Some("root".to_owned()),
        "AWSService" => field("invokedBy").map(str::to_owned),
        "SAMLUser" | "WebIdentityUser" | "IdentityCenterUser" => field("userName")
            .or_else(|| field("principalId"))
            .map(str::to_owned),
        _ => field("userName")
            .or_else(|| field("arn"))
            .or_else(|| field("principalId"))
            .map(str::to_owned),
    }?;
    Some(found.chars().take(MAX_TAG_VALUE_CHARS).collect())
}

fn last_segment(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn identities_normalise() {
        let cases = [
            (
                json!({"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/dev/alice", "userName": "alice"}),
                Some("alice"),
            ),
            (
                json!({"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/dev/alice"}),
                Some("alice"),
            ),
            (
                json!({"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/Deployer/ci-run-42",
                       "sessionContext": {"sessionIssuer": {"userName": "Deployer"}}}),
                Some("Deployer/ci-run-42"),
            ),
            (
                json!({"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123abcd/bob@example.com"}),
                Some("bob@example.com"),
            ),
            (
                json!({"type": "FederatedUser", "arn": "arn:aws:sts::123456789012:federated-user/carol"}),
                Some("carol"),
            ),
            (
                json!({"type": "Root", "arn": "arn:aws:iam::123456789012:root"}),
                Some("root"),
            ),
            (
                json!({"type": "AWSService", "invokedBy": "autoscaling.amazonaws.com"}),
                Some("autoscaling.amazonaws.com"),
            ),
            (
                json!({"type": "SAMLUser", "principalId": "SAMLSAMPLE:dave", "userName": "dave"}),
                Some("dave"),
            ),
            (json!({"type": "AssumedRole"}), None),
            (json!({}), None),
            (json!("not an object"), None),
        ];
        for (identity, expected) in cases {
            assert_eq!(creator(&identity).as_deref(), expected, "{identity}");
        }
    }

    #[test]
    fn a_long_identity_is_cut_to_the_tag_limit() {
        let long = "x".repeat(400);
        let identity = json!({"type": "IAMUser", "userName": long});
        assert_eq!(creator(&identity).map(|c| c.len()), Some(256));
    }
}
