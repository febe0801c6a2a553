// Package topn picks the first few items of a long list in sort order
// without sorting (or formatting) the whole list: reports name a handful of
// the thousands of pods or nodes behind a finding.
//
// In the data flow it is a helper of the analyses (pkg/pending, pkg/scheduling)
// when a finding names the objects behind it.
package topn
