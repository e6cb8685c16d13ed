//! Where every blueprint's alarms go: an on-call topic per stack.

use ordersctl::constructs::{Stack, SynthError, TopicEncryption, TopicRef};

/// `OnCallTopic`, the stack's default alarm action, encrypted with a key CloudWatch may use
/// (an alarm cannot publish to a topic under the AWS managed `aws/sns` key). Subscribe the
/// team's pager or chat to the `OnCallTopicArn` output. Call before any alarm is built.
pub fn on_call_topic<'a>(stack: &'a Stack) -> Result<TopicRef<'a>, SynthError> {
    let key = stack
        .key("OnCallKey")
        .description("Encrypts the on-call topic; CloudWatch alarms publish with it")
        .build()?;
    key.grant_service_encrypt_decrypt("cloudwatch.amazonaws.com");
    let topic = stack
        .topic("OnCallTopic")
        .encryption(TopicEncryption::Kms(key))
        .build()?;
    stack.default_alarm_action(topic.arn());
    stack
        .output("OnCallTopicArn", topic.arn())
        .description("Alarms notify this topic: subscribe the on-call pager or chat");
    Ok(topic)
}
