// Package chat is what follows a mutual match in the dating product: each
// user's matches with the partner's anonymous profile (the only place the
// partner's identity is revealed), the message history of a match, real-
// time delivery of new messages, and unmatching.
package chat
