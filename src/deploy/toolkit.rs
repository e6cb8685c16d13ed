//! The `OrdersctlToolkit` stack: the asset bucket every deploy uploads to. Built with the
//! same template model as everything else.

use crate::template::{Expr, Output, Policy, Resource, Template};

/// Name of the toolkit stack.
pub const TOOLKIT_STACK: &str = "OrdersctlToolkit";
/// Output (and export) holding the bucket name.
pub const BUCKET_OUTPUT: &str = "AssetBucketName";

/// The toolkit template: a versioned, encrypted, private, TLS-only bucket whose old object
/// versions expire, with its name exported.
///
/// ```
/// let t = ordersctl::deploy::toolkit_template();
/// assert!(t.resources.contains_key("AssetBucket"));
/// ```
pub fn toolkit_template() -> Template {
    let mut t = Template {
        description: Some("ordersctl toolkit: the asset bucket deploys upload to".into()),
        ..Default::default()
    };
    let mut bucket = Resource::new("AWS::S3::Bucket");
    bucket
        .set(
            "VersioningConfiguration",
            Expr::map([("Status", Expr::from("Enabled"))]),
        )
        .set(
            "BucketEncryption",
            Expr::map([(
                "ServerSideEncryptionConfiguration",
                Expr::list([Expr::map([(
                    "ServerSideEncryptionByDefault",
                    Expr::map([("SSEAlgorithm", Expr::from("AES256"))]),
                )])]),
            )]),
        )
        .set(
            "PublicAccessBlockConfiguration",
            Expr::map([
                ("BlockPublicAcls", Expr::from(true)),
                ("BlockPublicPolicy", Expr::from(true)),
                ("IgnorePublicAcls", Expr::from(true)),
                ("RestrictPublicBuckets", Expr::from(true)),
            ]),
        )
        .set(
            "LifecycleConfiguration",
            Expr::map([(
                "Rules",
                Expr::list([Expr::map([
                    ("Id", Expr::from("ExpireOldVersions")),
                    ("Status", Expr::from("Enabled")),
                    (
                        "NoncurrentVersionExpiration",
                        Expr::map([("NoncurrentDays", Expr::from(30u32))]),
                    ),
                    (
                        "AbortIncompleteMultipartUpload",
                        Expr::map([("DaysAfterInitiation", Expr::from(1u32))]),
                    ),
                ])]),
            )]),
        );
    // Assets are what deployed functions run: keep them if the toolkit stack goes.
    bucket.removal(Policy::Retain);
    t.resources.insert("AssetBucket".into(), bucket);
    let mut policy = Resource::new("AWS::S3::BucketPolicy");
    let bucket_arn = Expr::get_att("AssetBucket", "Arn");
    policy.set("Bucket", Expr::ref_("AssetBucket")).set(
        "PolicyDocument",
        Expr::map([
            ("Version", Expr::from("2012-10-17")),
            (
                "Statement",
                Expr::list([Expr::map([
                    ("Sid", Expr::from("DenyInsecureTransport")),
                    ("Effect", Expr::from("Deny")),
                    ("Principal", Expr::from("*")),
                    ("Action", Expr::from("s3:*")),
                    (
                        "Resource",
                        Expr::list([
                            bucket_arn.clone(),
                            Expr::join("", [bucket_arn, Expr::from("/*")]),
                        ]),
                    ),
                    (
                        "Condition",
                        Expr::map([(
                            "Bool",
                            Expr::map([("aws:SecureTransport", Expr::from("false"))]),
                        )]),
                    ),
                ])]),
            ),
        ]),
    );
    t.resources.insert("AssetBucketPolicy".into(), policy);
    let mut out = Output::new(Expr::ref_("AssetBucket"));
    out.description = Some("Bucket holding ordersctl assets and large templates".into());
    out.export_name = Some(Expr::from("OrdersctlToolkit-AssetBucketName"));
    t.outputs.insert(BUCKET_OUTPUT.into(), out);
    t
}
