"""DingTalk (钉钉) robot in Stream mode: an outbound WebSocket to DingTalk's gateway, so no public callback URL
is needed (suits government intranets). `policybot dingtalk` runs it.

`stream.PolicyStreamClient` is dingtalk-stream's client with a configurable OpenAPI base URL and a run loop
that can be stopped; `channel.DingTalkChannel` answers one-to-one messages and group @-mentions through the
shared `TextConversation` and replies in markdown through the message's session webhook."""
