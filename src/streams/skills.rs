//! The `skills` stream: routing skills, one request to `skills`.

use super::records::Skill;

super::simple::one_request_stream!("skills", "skills", Skill, &["id"], Array, false);
