"""Leanserve's Pulumi components: SageMaker endpoints and Triton on Kubernetes, built from a plan.

Modules (each imports pulumi_aws / pulumi_kubernetes only when used):
  config              the stack settings of Pulumi.<stack>.yaml, read with toolkit.deploy.stack_schema
  policies            IAM and bucket policy documents (pure)
  storage             ArtifactBucket: encrypted, versioned, private bucket + model.tar.gz keyed by sha256
  alarms              EndpointAlarms: SLA-percentile latency and 5xx-rate CloudWatch alarms
  autoscaling         VariantAutoscaling: Application Auto Scaling target, policy, schedules
  sagemaker_endpoint  SageMakerEndpoint: the whole SageMaker stack
  kubernetes_triton   KubernetesTriton: Deployment, Service, HPA, PDB (LLMs: a KEDA ScaledObject instead of the HPA)
  gpu_nodes           GpuNodeGroup (EKS managed GPU node group, tainted) and the KEDA concurrency scaler
  stack               the program `__main__.py` runs
"""
