//! `spec`: the connector specification, derived from [`crate::config::Config`].

use serde_json::json;

use crate::config::Config;
use crate::error::Error;
use crate::protocol::{AirbyteMessage, ConnectorSpecification, Output};
use crate::schema::spec_schema;

/// Where users read about the configuration.
pub const DOCUMENTATION_URL: &str = "https://docs.airbyte.com/integrations/sources/zendesk-chat";

/// The specification announced by `spec` (and committed as `spec.json`).
pub fn specification() -> ConnectorSpecification {
    ConnectorSpecification {
        documentation_url: DOCUMENTATION_URL.to_owned(),
        changelog_url: None,
        connection_specification: spec_schema::<Config>(),
        supports_incremental: true,
        protocol_version: Some("0.5.2".to_owned()),
        advanced_auth: Some(json!({
            "auth_flow_type": "oauth2.0",
            "predicate_key": ["credentials", "credentials"],
            "predicate_value": "oauth2.0",
            "oauth_config_specification": {
                "oauth_user_input_from_connector_config_specification": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {"subdomain": {"type": "string", "path_in_connector_config": ["subdomain"]}}
                },
                "complete_oauth_output_specification": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "access_token": {"type": "string", "path_in_connector_config": ["credentials", "access_token"]},
                        "refresh_token": {"type": "string", "path_in_connector_config": ["credentials", "refresh_token"]}
                    }
                },
                "complete_oauth_server_input_specification": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {"client_id": {"type": "string"}, "client_secret": {"type": "string"}}
                },
                "complete_oauth_server_output_specification": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "client_id": {"type": "string", "path_in_connector_config": ["credentials", "client_id"]},
                        "client_secret": {"type": "string", "path_in_connector_config": ["credentials", "client_secret"]}
                    }
                }
            }
        })),
    }
}

/// `spec`: one SPEC message.
pub fn spec(out: &Output) -> Result<(), Error> {
    out.emit(&AirbyteMessage::Spec {
        spec: specification(),
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_spec_json_is_the_generated_spec() {
        let committed: serde_json::Value =
            serde_json::from_str(include_str!("../../spec.json")).expect("spec.json is JSON");
        let generated = serde_json::to_value(specification()).unwrap();
        assert_eq!(
            committed, generated,
            "spec.json is stale: regenerate it as the README says (Development)"
        );
    }

    #[test]
    fn spec_follows_airbyte_rules() {
        let s = serde_json::to_value(specification()).unwrap();
        let c = &s["connectionSpecification"];
        assert_eq!(c["$schema"], "http://json-schema.org/draft-07/schema#");
        assert_eq!(c["additionalProperties"], true);
        assert!(!c.to_string().contains("$ref"));
        assert!(!c.to_string().contains("anyOf"));
        let options = c["properties"]["credentials"]["oneOf"].as_array().unwrap();
        assert_eq!(options[0]["properties"]["credentials"]["const"], "oauth2.0");
        for option in options {
            for (name, prop) in option["properties"].as_object().unwrap() {
                if name != "credentials" {
                    assert_eq!(prop["airbyte_secret"], true, "{name}");
                }
            }
        }
        assert_eq!(c["properties"]["base_url"]["airbyte_hidden"], true);
        jsonschema::draft7::meta::validate(c).unwrap();
    }
}
