//! The publisher's configuration, read once at init.

use chrono::Duration;
use fleet_core::{ConfigError, FromVars, Vars};
use lambda_http::http::HeaderValue;

use crate::http::Settings;

#[derive(Debug, Clone)]
pub struct Config {
    pub settings: Settings,
    /// `IOT_DATA_ENDPOINT`: the iot-data endpoint, instead of asking DescribeEndpoint.
    pub iot_data_endpoint: Option<String>,
    /// `STATE_TABLE`: the fleet's state table, holding the robot's command counter.
    pub state_table: String,
}

impl FromVars for Config {
    /// `ROBOT_NAME` and `STATE_TABLE` (required), `ALLOWED_ORIGIN` (default `*`),
    /// `COMMAND_TTL_MS` (default 3000), `IOT_DATA_ENDPOINT`.
    fn from_vars(vars: &impl Vars) -> Result<Self, ConfigError> {
        let robot_name = vars.required("ROBOT_NAME")?;
        // A topic level: no separators or wildcards.
        if robot_name.contains(['/', '#', '+']) {
            return Err(ConfigError::invalid(
                "ROBOT_NAME",
                &robot_name,
                "must not contain '/', '#' or '+' (it is a topic level)",
            ));
        }
        let origin = vars
            .optional("ALLOWED_ORIGIN")
            .unwrap_or_else(|| "*".to_owned());
        let allowed_origin = HeaderValue::from_str(&origin).map_err(|_| {
            ConfigError::invalid("ALLOWED_ORIGIN", &origin, "not a valid header value")
        })?;
        let ttl_ms: i64 = vars.ranged_or("COMMAND_TTL_MS", 3000, 500..=60_000)?;
        let state_table = vars.required("STATE_TABLE")?;
        Ok(Self {
            state_table,
            settings: Settings {
                robot_name,
                allowed_origin,
                command_ttl: Duration::milliseconds(ttl_ms),
            },
            iot_data_endpoint: vars.optional("IOT_DATA_ENDPOINT"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_vars() {
        let config = Config::from_vars(&[
            ("ROBOT_NAME", "rover"),
            ("STATE_TABLE", "state"),
            ("COMMAND_TTL_MS", "5000"),
        ])
        .unwrap();
        assert_eq!(config.state_table, "state");
        assert_eq!(config.settings.topic(), "rover/action");
        assert_eq!(config.settings.allowed_origin, "*");
        assert_eq!(config.settings.command_ttl, Duration::seconds(5));
        assert_eq!(config.iot_data_endpoint, None);
    }

    #[test]
    fn errors_name_the_variable() {
        for (vars, name) in [
            (vec![], "ROBOT_NAME"),
            (vec![("ROBOT_NAME", "a/b")], "ROBOT_NAME"),
            (vec![("ROBOT_NAME", "r")], "STATE_TABLE"),
            (
                vec![
                    ("ROBOT_NAME", "r"),
                    ("STATE_TABLE", "s"),
                    ("COMMAND_TTL_MS", "10"),
                ],
                "COMMAND_TTL_MS",
            ),
            (
                vec![
                    ("ROBOT_NAME", "r"),
                    ("STATE_TABLE", "s"),
                    ("ALLOWED_ORIGIN", "bad\nvalue"),
                ],
                "ALLOWED_ORIGIN",
            ),
        ] {
            let vars: std::collections::HashMap<String, String> = vars
                .into_iter()
                .map(|(k, v): (&str, &str)| (k.to_owned(), v.to_owned()))
                .collect();
            let err = Config::from_vars(&vars).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
    }
}
