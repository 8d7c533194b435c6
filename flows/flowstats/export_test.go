package flowstats

// Within is within, for the package's external tests.
var Within = within

// Sketched returns how many duration sets of a's cells (Wall and Work)
// hold samples and how many hold histograms, for tests.
func Sketched(a *Aggregate) (exact, sketched int) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	for _, c := range a.cells {
		for _, d := range []*Durations{&c.Wall, &c.Work} {
			switch {
			case d.Sketched():
				sketched++
			case d.N() > 0:
				exact++
			}
		}
	}
	return exact, sketched
}

// SetKeepEnded sets how many ended requests a remembers the cell of, for
// tests (before anything is folded).
func SetKeepEnded(a *Aggregate, n int) { a.ended = newEnded(n) }

// AgeDirectory makes a's last directory read older than DirectoryRecheck,
// for tests.
func AgeDirectory(a *Aggregate) {
	a.upd.Lock()
	a.dirRead = a.dirRead.Add(-2 * DirectoryRecheck)
	a.upd.Unlock()
}
