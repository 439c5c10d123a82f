from django.contrib.auth import views as auth_views
from django.urls import path

from kiungo.people import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("clas/", views.deployments, name="deployments"),
    path("clas/<int:pk>/", views.cla_detail, name="cla-detail"),
    path("clas/<int:pk>/rotations/new/", views.rotation_new, name="rotation-new"),
    path("clas/<int:pk>/absences/new/", views.absence_new, name="absence-new"),
    path("rotations/<int:pk>/complete/", views.rotation_complete, name="rotation-complete"),
    path("rotations/<int:pk>/cancel/", views.rotation_cancel, name="rotation-cancel"),
]
