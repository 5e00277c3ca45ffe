// Package chat is what follows a mutual match in the dating product: each
// user's matches with the partner's anonymous profile (the only place the
// partner's identity is revealed), the message history of a match, real-
// time delivery of new messages, and unmatching.
//
// Matches are made by the optin feature (a mutual outcome); chat reads
// them from the same database: store/memory's ChatStore wraps the
// OptinStore, store/postgres's reads the matches table. A Service
// (New) offers:
//
//   - Matches: a user's live matches, newest activity first, each with
//     its last message and the partner's Partner profile (Deleted for a
//     deleted account), in pages with an opaque cursor;
//   - Messages: the history of a match in ascending order, the newest
//     page first, with opaque before/after cursors over the messages'
//     Seq, which the store assigns atomically (1, 2, … without gaps), so
//     pages neither skip nor repeat a message while others are sent;
//   - Send: a message of 1 to MaxTextLen characters, idempotent by the
//     sender's clientMessageId, limited per user (MessageBurst per
//     MessageBurst/MessageRate seconds), announced to both users'
//     sockets as EventMessage on Namespace;
//   - Unmatch: removes the match for both users (its history becomes
//     unreadable; a later mutual outcome makes a new, empty match) and
//     announces EventMatchRemoved to both.
//
// Only the two users of a match may read, write or remove it: anyone else
// gets ErrNotAParticipant (403), and an unknown or removed match is
// ErrMatchNotFound (404).
package chat
