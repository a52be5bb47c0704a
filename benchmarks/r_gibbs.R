# R bayesreg's Gibbs sampler (Makalic & Schmidt, bayesreg 1.3) on one data set: the anchor of
# benchmarks/r_gibbs.py, which writes the data, runs this script and reads its draws back.
#
#   Rscript benchmarks/r_gibbs.R DATA.csv PRIOR CHAINS DRAWS BURNIN SEED OUT_PREFIX [THIN]
#
# DATA.csv: a header, y in the first column, the predictors after it (already centred and scaled to
# unit Euclidean norm, so bayesreg's own standardisation is the identity). PRIOR: "hs" or "hs+".
# Runs CHAINS chains one after the other on one core (n.cores = 1, seeds SEED + chain), each DRAWS
# kept draws after BURNIN, keeping every THIN-th (default 1: all; the long agreement runs thin), after one untimed warm-up call (package and first-call overheads).
# Writes OUT_PREFIX.draws.csv (chain, draw, beta0, beta_1..beta_p, sigma2, tau2) and
# OUT_PREFIX.time.csv (chain, elapsed and CPU seconds of each chain's bayesreg() call).
# Not a dependency of the package or its tests.

suppressPackageStartupMessages(library(bayesreg))

args <- commandArgs(trailingOnly = TRUE)
if (!(length(args) %in% 7:8)) stop("usage: Rscript r_gibbs.R DATA.csv PRIOR CHAINS DRAWS BURNIN SEED OUT_PREFIX [THIN]")
data <- read.csv(args[1])
prior <- args[2]
chains <- as.integer(args[3])
draws <- as.integer(args[4])
burnin <- as.integer(args[5])
seed <- as.integer(args[6])
prefix <- args[7]
thin <- if (length(args) == 8) as.integer(args[8]) else 1L

names(data)[1] <- "y"
fit_chain <- function(n_samples, n_burnin, thin = 1L) {
  bayesreg(y ~ ., data = data, model = "gaussian", prior = prior, n.samples = n_samples,
           burnin = n_burnin, thin = thin, n.cores = 1)
}

set.seed(seed - 1)
invisible(fit_chain(10, 10))  # warm-up, untimed

draws_out <- list()
times_out <- list()
for (chain in seq_len(chains)) {
  set.seed(seed + chain)
  started <- proc.time()
  rv <- fit_chain(draws, burnin, thin)
  used <- proc.time() - started
  beta <- matrix(rv$beta, nrow = ncol(data) - 1)  # p x draws
  frame <- data.frame(chain = chain - 1, draw = seq_len(draws) - 1, beta0 = as.numeric(rv$beta0), t(beta),
                      sigma2 = as.numeric(rv$sigma2), tau2 = as.numeric(rv$tau2))
  names(frame)[4:(3 + nrow(beta))] <- paste0("beta_", seq_len(nrow(beta)))
  draws_out[[chain]] <- frame
  times_out[[chain]] <- data.frame(chain = chain - 1, elapsed = used[["elapsed"]],
                                   cpu = used[["user.self"]] + used[["sys.self"]])
}
write.csv(do.call(rbind, draws_out), paste0(prefix, ".draws.csv"), row.names = FALSE)
write.csv(do.call(rbind, times_out), paste0(prefix, ".time.csv"), row.names = FALSE)
