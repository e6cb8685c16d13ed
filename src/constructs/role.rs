//! An IAM role that exists outside the app, as a grantee: what is granted to it goes into an
//! `AWS::IAM::Policy` attached to it, as CDK does for `Role.fromRoleArn`.

use crate::template::Expr;

use super::iam::{Grantee, Statement};
use super::stack::{handle, Facts, Imported, PolicyHolder};
use super::{Stack, SynthError};

handle!(
    /// An IAM role made outside the app (imported by ARN).
    RoleRef
);

impl<'a> RoleRef<'a> {
    /// A role that exists outside the app, by ARN: grants to it become a policy of this
    /// stack attached to the role.
    ///
    /// ```
    /// use ordersctl::constructs::{App, RoleRef};
    /// let app = App::new();
    /// let stack = app.stack("Demo");
    /// let q = stack.queue("Jobs").build()?;
    /// let ci = RoleRef::from_arn(stack, "Deployer", "arn:aws:iam::123456789012:role/ci/deployer")?;
    /// q.grant_send(&ci);
    /// # Ok::<(), ordersctl::constructs::SynthError>(())
    /// ```
    pub fn from_arn(stack: &'a Stack, id: &str, arn: &str) -> Result<RoleRef<'a>, SynthError> {
        let path = stack.child_path(id);
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let name = match parts.as_slice() {
            ["arn", partition, "iam", "", account, resource]
                if super::import::PARTITIONS.contains(partition)
                    && account.len() == 12
                    && account.chars().all(|c| c.is_ascii_digit()) =>
            {
                // role/[PATH/]NAME: path segments and a name of 1 to 64 of IAM's characters.
                let iam_chars = |s: &str| {
                    s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
                };
                let segments: Vec<&str> = match resource.strip_prefix("role/") {
                    Some(r) => r.split('/').collect(),
                    None => Vec::new(),
                };
                match segments.split_last() {
                    // IAM: a name of 1 to 64, a path of at most 512 characters.
                    Some((name, path))
                        if (1..=64).contains(&name.len())
                            && resource.len() <= "role/".len() + 512 + name.len()
                            && iam_chars(name)
                            && path
                                .iter()
                                .all(|p| !p.is_empty() && !p.starts_with('.') && iam_chars(p)) =>
                    {
                        Some(*name)
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        let Some(name) = name else {
            return Err(SynthError::invalid(
                path,
                format!("{arn:?} is not an IAM role ARN; expected arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME"),
            ));
        };
        let node = stack.import_node(
            id,
            Imported {
                ref_value: Expr::from(name),
                attributes: vec![("Arn", Expr::from(arn)), ("RoleName", Expr::from(name))],
            },
            Facts::default(),
        )?;
        Ok(RoleRef { stack, node })
    }

    /// The role ARN.
    pub fn arn(&self) -> Expr {
        self.att("Arn")
    }
}

impl Grantee for RoleRef<'_> {
    fn add_to_principal_policy(&self, statement: Statement) {
        let holder = format!("{}Policy", self.logical_id());
        self.stack.attach_policy(
            &holder,
            PolicyHolder::ImportedRole {
                role_name: self.ref_(),
            },
            &self.path(),
            statement,
        );
    }
}
