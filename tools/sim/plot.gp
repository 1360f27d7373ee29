# Plots epc-sim's median curves (fill_median.csv, churn_median.csv in `dir`) into `out` (PNG).
# Used by scripts/bin-packing: gnuplot -e "dir='...'; out='...'; mix='...'" tools/sim/plot.gp
# Strategies missing from the CSVs are simply not drawn.
set datafile separator ','
set terminal pngcairo size 1400,560 font 'sans,11'
set output out
set key bottom right box opaque
set grid
if (!exists("mix")) mix = "as-listed"
strategies = "kube-default kube-most-allocated BestFit FragmentationAware StrandingAware StrandingAware/top1"
dashed = "BestFit/top1"  # drawn dashed: the one-round-trip form of the previous default
set multiplot layout 1,2 title "EPC bin-packing on Alibaba openb (1,523 nodes), mix ".mix.", median of seeds 42..51"

set title "Fill: placed vs arrived EPC (no departures)"
set xlabel "arrived EPC, % of cluster EPC"
set ylabel "placed EPC, % of cluster EPC"
set xrange [70:130]
set yrange [70:100]
plot for [i=1:words(strategies)] dir.'/fill_median.csv' skip 1 \
     using (100*$2):(strcol(1) eq word(strategies, i) ? 100*$3 : NaN) \
     with lines lw 2 title word(strategies, i), \
     dir.'/fill_median.csv' skip 1 using (100*$2):(strcol(1) eq dashed ? 100*$3 : NaN) \
     with lines lw 2 dt 2 lc rgb 'black' title dashed.' (one round trip)'

set title "Churn: pods rejected, offered EPC load held at 100%"
set xlabel "pods arrived"
set ylabel "pods rejected (cumulative)"
set xrange [*:*]
set yrange [0:*]
set key top left box opaque
plot for [i=1:words(strategies)] dir.'/churn_median.csv' skip 1 \
     using 2:(strcol(1) eq word(strategies, i) ? $3 : NaN) \
     with lines lw 2 title word(strategies, i), \
     dir.'/churn_median.csv' skip 1 using 2:(strcol(1) eq dashed ? $3 : NaN) \
     with lines lw 2 dt 2 lc rgb 'black' title dashed.' (one round trip)'
unset multiplot
