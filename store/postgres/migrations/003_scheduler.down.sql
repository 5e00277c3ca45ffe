DROP TABLE IF EXISTS rendezvous_jobs;
