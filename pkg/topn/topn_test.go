package topn

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSortedEqualsTheHeadOfAFullSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	less := func(a, b int) bool { return a < b }
	for range 200 {
		items := make([]int, r.IntN(40))
		for i := range items {
			items[i] = r.IntN(20)
		}
		n := r.IntN(12)
		want := slices.Clone(items)
		slices.Sort(want)
		want = want[:min(n, len(want))]
		if got := Sorted(items, n, less); !slices.Equal(got, want) {
			t.Fatalf("Sorted(%v, %d) = %v, want %v", items, n, got, want)
		}
	}
}
