package topn

import "sort"

// Sorted returns the n items of items that sort first by less, in order.
// Items that compare equal keep their input order.
func Sorted[T any](items []T, n int, less func(a, b T) bool) []T {
	top := make([]T, 0, min(n, len(items)))
	if n <= 0 {
		return top
	}
	for _, it := range items {
		if len(top) == n && !less(it, top[n-1]) {
			continue
		}
		i := sort.Search(len(top), func(i int) bool { return less(it, top[i]) })
		if len(top) < n {
			var zero T
			top = append(top, zero)
		}
		copy(top[i+1:], top[i:len(top)-1])
		top[i] = it
	}
	return top
}
