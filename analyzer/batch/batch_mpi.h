/*
 * batch_mpi.h - `mastwatch batch` under mpirun (batch_mpi*.c, built with
 * -DMW_MPI=ON only): rank 0 runs the batch as usual and hands the captures
 * out one at a time to every rank that asks; see docs/BATCH.md.
 */
#ifndef MW_BATCH_MPI_H
#define MW_BATCH_MPI_H

#ifdef MW_HAVE_MPI
/* Was this process started by an MPI launcher (mpirun, srun)? */
int mw__batch_mpi_launched(void);

/* The batch command as one rank of an MPI job; returns its exit status. */
int mw__batch_mpi_main(int argc, char **argv);
#endif

#endif
