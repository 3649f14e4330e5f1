"""The classic MLflow iris example, unmodified MLflow client, logging to `labbook serve`.

    pip install mlflow scikit-learn          # any MLflow 2.x or 3.x client
    labbook serve &                          # in your git repository: MLflow's REST API on 127.0.0.1:5000
    MLFLOW_TRACKING_URI=http://127.0.0.1:5000 python examples/mlflow_iris.py
    labbook ls -e iris_classification        # the runs are on the labbook branch, linked to your HEAD commit

With `labbook serve --token T`, also set MLFLOW_TRACKING_TOKEN=T.
Nothing here knows about labbook: this is the code users already have.
"""
import os
import tempfile

import mlflow
import mlflow.sklearn
from mlflow import MlflowClient
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

if "MLFLOW_TRACKING_URI" not in os.environ:
    raise SystemExit("Set MLFLOW_TRACKING_URI=http://127.0.0.1:5000 (the address `labbook serve` prints).")

X, y = load_iris(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=42)

mlflow.set_experiment("iris_classification")

# 1. The iris example: params, a metric, the model.
with mlflow.start_run(run_name="random_forest_v1") as run:
    n_estimators, max_depth = 100, 5
    mlflow.log_param("n_estimators", n_estimators)
    mlflow.log_param("max_depth", max_depth)
    model = RandomForestClassifier(n_estimators=n_estimators, max_depth=max_depth, random_state=42)
    model.fit(X_train, y_train)
    accuracy = accuracy_score(y_test, model.predict(X_test))
    mlflow.log_metric("accuracy", accuracy)
    mlflow.sklearn.log_model(model, "model")
    print(f"run {run.info.run_id}: accuracy {accuracy:.4f}")

# 2. The rest of the everyday API: a metric series, tags, a file, a nested run, search, history.
with mlflow.start_run(run_name="sweep") as parent:
    for step, trees in enumerate([1, 5, 10, 25, 50]):
        m = RandomForestClassifier(n_estimators=trees, max_depth=3, random_state=0).fit(X_train, y_train)
        mlflow.log_metrics({"accuracy": accuracy_score(y_test, m.predict(X_test)), "trees": trees}, step=step)
    mlflow.set_tag("team", "ml-platform")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "notes.txt")
        with open(path, "w") as f:
            f.write("trees vs accuracy on iris\n")
        mlflow.log_artifact(path)
    with mlflow.start_run(run_name="child", nested=True):
        mlflow.log_param("child_param", "x")
        mlflow.log_metric("accuracy", 0.75)

runs = mlflow.search_runs(experiment_names=["iris_classification"], filter_string="metrics.accuracy > 0.5")
print(runs[["run_id", "tags.mlflow.runName", "metrics.accuracy"]])
history = MlflowClient().get_metric_history(parent.info.run_id, "accuracy")
print("accuracy by step:", [(m.step, round(m.value, 3)) for m in history])
