package auth

// Public sources are open to anyone without a grant (a lobby camera). The
// set is held here, beside the credentials, so the playback hot path asks
// memory and not the store.

// LoadPublic sets the public sources at start.
func (a *Authority) LoadPublic(ids []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.public = make(map[string]bool, len(ids))
	for _, id := range ids {
		a.public[id] = true
	}
}

// SetPublic opens (or closes) source id's playback to anyone.
func (a *Authority) SetPublic(id string, public bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.public == nil {
		a.public = map[string]bool{}
	}
	if public {
		a.public[id] = true
	} else {
		delete(a.public, id)
	}
}

// IsPublic reports whether anyone may watch source id.
func (a *Authority) IsPublic(id string) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.public[id]
}
