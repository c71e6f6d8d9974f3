//! Operators: who they are (role, privileges) and their passwords, stored with argon2. The
//! command line creates and changes them (`roster`).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::db::entity::rooms::operator;

/// The privileges an admin can hold (docs/src/dating/api/console.md).
pub const PRIVILEGES: [&str; 11] = [
    "users:read",
    "users:ban",
    "products:read",
    "products:write",
    "orders:read",
    "live:read",
    "live:write",
    "reports:read",
    "reports:write",
    "metrics:read",
    "audit:read",
];

/// An operator's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Manages users, products, orders and every live.
    Admin,
    /// Runs their own lives.
    Host,
}

impl Role {
    /// Parses `admin` or `host`.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "host" => Some(Role::Host),
            _ => None,
        }
    }

    /// `admin` or `host`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Host => "host",
        }
    }
}

/// The operator behind the request's bearer token.
#[derive(Clone, Debug)]
pub struct Operator {
    /// The operator's id.
    pub id: i64,
    /// The login name.
    pub name: String,
    /// Admin or host.
    pub role: Role,
    /// The admin's privileges.
    pub privileges: Vec<String>,
}

impl Operator {
    /// Who the operator's live feeds are in the real-time hub: the id negated, never a user's,
    /// so they have a user's limits (five at once) and end together at logout.
    pub fn hub_user(&self) -> i64 {
        -self.id
    }

    /// From its row.
    pub fn from_row(row: &operator::Model) -> Self {
        Operator {
            id: row.id,
            name: row.name.clone(),
            role: Role::parse(&row.role).unwrap_or(Role::Host),
            privileges: row
                .privileges
                .split(',')
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }

    /// Whether the operator holds `privilege`.
    pub fn can(&self, privilege: &str) -> bool {
        self.privileges.iter().any(|p| p == privilege)
    }
}

/// Hashes a password with argon2id and a random salt (PHC string format).
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system's random source works");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters hashes any password")
        .to_string()
}

/// Checks a password against a stored hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// The longest operator name, in bytes.
pub const MAX_NAME: usize = 64;
