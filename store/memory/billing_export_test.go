package memory

// WalletEventCount returns the number of webhook event ids s remembers.
func WalletEventCount(s *WalletStore) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events)
}
