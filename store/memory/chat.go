package memory

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/rendezvous-go/rendezvous/chat"
	"github.com/rendezvous-go/rendezvous/optin"
)

var _ chat.Store = (*ChatStore)(nil)

// ChatStore is an in-memory chat.Store over the matches of an OptinStore:
// the matches the optin feature makes are the ones chat lists, and an
// unmatch removes them from the OptinStore too. Create one with
// NewChatStore; it is safe for concurrent use. It takes the OptinStore's
// mutex for every call, so Seqs are assigned in one step with the check
// of the match and of the sender's clientMessageId. Messages are kept for
// the life of the process, those of a removed match too (unreadable);
// times are returned in UTC.
type ChatStore struct {
	optin *OptinStore
	// chats holds the messages of the matches that have any, by match id;
	// guarded by optin.mu.
	chats map[string]*chatLog
}

// chatLog is the history of one match.
type chatLog struct {
	messages []chat.Message    // messages[i].Seq == i+1
	byClient map[[2]string]int // (sender, clientMessageId) → index in messages
	last     time.Time         // LastActivity
}

// NewChatStore returns a ChatStore over the matches of o.
func NewChatStore(o *OptinStore) *ChatStore {
	return &ChatStore{optin: o, chats: make(map[string]*chatLog)}
}

// view returns m as chat sees it. The caller holds the mutex.
func (s *ChatStore) view(m optin.Match) chat.Match {
	out := chat.Match{ID: m.ID, Users: m.Users, CreatedAt: m.CreatedAt, LastActivity: m.CreatedAt}
	if l := s.chats[m.ID]; l != nil && len(l.messages) > 0 {
		last := l.messages[len(l.messages)-1]
		out.LastMessage = &last
		out.LastActivity = l.last
	}
	return out
}

// Matches implements chat.Store.
func (s *ChatStore) Matches(_ context.Context, userID string, after *chat.MatchCursor, limit int) ([]chat.Match, error) {
	s.optin.mu.Lock()
	defer s.optin.mu.Unlock()
	var out []chat.Match
	for _, m := range s.optin.matches {
		if m.Users[0] != userID && m.Users[1] != userID {
			continue
		}
		v := s.view(m)
		if after != nil && !matchBefore(v, after.LastActivity, after.ID) {
			continue
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b chat.Match) int {
		if c := b.LastActivity.Compare(a.LastActivity); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	if len(out) > limit {
		out = out[:max(limit, 0)]
	}
	return out, nil
}

// matchBefore reports whether m comes after the position (at, id) in the
// order of Matches: older activity, or the same and a smaller id.
func matchBefore(m chat.Match, at time.Time, id string) bool {
	if c := m.LastActivity.Compare(at); c != 0 {
		return c < 0
	}
	return m.ID < id
}

// Match implements chat.Store.
func (s *ChatStore) Match(_ context.Context, id string) (chat.Match, error) {
	s.optin.mu.Lock()
	defer s.optin.mu.Unlock()
	m, ok := s.optin.matches[id]
	if !ok {
		return chat.Match{}, chat.ErrMatchNotFound
	}
	return s.view(m), nil
}

// Send implements chat.Store.
func (s *ChatStore) Send(_ context.Context, nm chat.NewMessage) (chat.Message, bool, error) {
	s.optin.mu.Lock()
	defer s.optin.mu.Unlock()
	m, ok := s.optin.matches[nm.MatchID]
	if !ok {
		return chat.Message{}, false, chat.ErrMatchNotFound
	}
	if m.Users[0] != nm.SenderID && m.Users[1] != nm.SenderID {
		return chat.Message{}, false, chat.ErrNotAParticipant
	}
	l := s.chats[m.ID]
	if l == nil {
		l = &chatLog{byClient: make(map[[2]string]int), last: m.CreatedAt}
		s.chats[m.ID] = l
	}
	key := [2]string{nm.SenderID, nm.ClientMessageID}
	if nm.ClientMessageID != "" {
		if i, ok := l.byClient[key]; ok {
			return l.messages[i], false, nil
		}
	}
	// Times never go back along Seq.
	at := nm.CreatedAt.UTC()
	if at.Before(l.last) {
		at = l.last
	}
	msg := chat.Message{
		ID: nm.ID, MatchID: m.ID, SenderID: nm.SenderID, Text: nm.Text, CreatedAt: at,
		ClientMessageID: nm.ClientMessageID, Seq: int64(len(l.messages)) + 1,
	}
	l.messages = append(l.messages, msg)
	l.last = at
	if nm.ClientMessageID != "" {
		l.byClient[key] = len(l.messages) - 1
	}
	return msg, true, nil
}

// Messages implements chat.Store.
func (s *ChatStore) Messages(_ context.Context, matchID string, q chat.HistoryQuery) ([]chat.Message, error) {
	s.optin.mu.Lock()
	defer s.optin.mu.Unlock()
	if _, ok := s.optin.matches[matchID]; !ok {
		return nil, chat.ErrMatchNotFound
	}
	var all []chat.Message
	if l := s.chats[matchID]; l != nil {
		all = l.messages
	}
	n := int64(len(all))
	limit := int64(max(q.Limit, 0))
	// from and to select all[from:to].
	var from, to int64
	switch {
	case q.Before > 0:
		to = min(q.Before-1, n)
		from = max(to-limit, 0)
	case q.After > 0:
		from = min(q.After, n)
		to = min(from+limit, n)
	default:
		to = n
		from = max(to-limit, 0)
	}
	return slices.Clone(all[from:to]), nil
}

// Unmatch implements chat.Store.
func (s *ChatStore) Unmatch(_ context.Context, id, userID string, _ time.Time) (chat.Match, error) {
	s.optin.mu.Lock()
	defer s.optin.mu.Unlock()
	m, ok := s.optin.matches[id]
	if !ok {
		return chat.Match{}, chat.ErrMatchNotFound
	}
	if m.Users[0] != userID && m.Users[1] != userID {
		return chat.Match{}, chat.ErrNotAParticipant
	}
	v := s.view(m)
	s.optin.removeMatch(id)
	return v, nil
}
